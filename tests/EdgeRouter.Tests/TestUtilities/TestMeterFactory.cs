using System.Diagnostics.Metrics;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Meters for components built by hand in tests, outside a host.</summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options) => new(options);

    public void Dispose()
    {
    }
}

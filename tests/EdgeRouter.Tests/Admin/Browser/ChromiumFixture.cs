using Microsoft.Playwright;

namespace EdgeRouter.Tests.Admin.Browser;

/// <summary>
/// Debian's Chromium, driven by Playwright, started once for every browser test. Playwright cannot download its own
/// browser here; <c>scripts/test-deps.sh</c> installs Debian's. A missing browser fails the tests rather than skip them.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: run scripts/test-deps.sh, which installs Debian's chromium.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,

            // Root in CI needs --no-sandbox; the rest keep Chromium off a network it cannot reach.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ChromiumGroup : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "chromium";
}

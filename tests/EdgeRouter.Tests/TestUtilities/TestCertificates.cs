using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EdgeRouter.Tests.TestUtilities;

/// <summary>Throwaway self-signed certificates, for the test servers that answer over TLS as the real ones do.</summary>
public static class TestCertificates
{
    /// <summary>A day-long certificate for localhost, 127.0.0.1 and <paramref name="dnsNames"/>.</summary>
    public static X509Certificate2 SelfSigned(params string[] dnsNames)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}

using EdgeRouter.Cdn;
using EdgeRouter.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeRouter.Tests.Cdn;

/// <summary>Purge targets are checked at start, each problem naming the target and its field; secrets come from the environment.</summary>
public sealed class CdnSettingsTests
{
    [Theory]
    [InlineData("cloudflare", null, "EdgeRouter:Cdn:Targets:0 ('t'): zoneId is required for kind 'cloudflare'.|EdgeRouter:Cdn:Targets:0 ('t'): apiToken is required for kind 'cloudflare'.")]
    [InlineData("fastly", "purge", "EdgeRouter:Cdn:Targets:0 ('t'): serviceId is required for kind 'fastly'.|EdgeRouter:Cdn:Targets:0 ('t'): apiToken is required for kind 'fastly'.|EdgeRouter:Cdn:Targets:0 ('t'): purgeBy must be 'tag' or 'url' for kind 'fastly' (was 'purge').")]
    [InlineData("bunny", "tag", "EdgeRouter:Cdn:Targets:0 ('t'): apiKey is required for kind 'bunny'.|EdgeRouter:Cdn:Targets:0 ('t'): purgeBy must be 'url' for kind 'bunny' (was 'tag').")]
    [InlineData("cloudfront", null, "EdgeRouter:Cdn:Targets:0 ('t'): distributionId is required for kind 'cloudfront'.|EdgeRouter:Cdn:Targets:0 ('t'): accessKeyId is required for kind 'cloudfront'.|EdgeRouter:Cdn:Targets:0 ('t'): secretAccessKey is required for kind 'cloudfront'.")]
    [InlineData("webhook", null, "EdgeRouter:Cdn:Targets:0 ('t'): url is required for kind 'webhook'.|EdgeRouter:Cdn:Targets:0 ('t'): secret is required for kind 'webhook'.")]
    [InlineData("akamai", null, "EdgeRouter:Cdn:Targets:0 ('t'): kind must be one of cloudflare, fastly, bunny, cloudfront, webhook (was 'akamai').")]
    public void ATargetMissingWhatItsKindNeeds_IsRefused_NamingEachField(string kind, string? purgeBy, string expected)
    {
        var options = Options(new CdnTargetOptions { Name = "t", Kind = kind, PurgeBy = purgeBy });

        Assert.Equal(expected.Split('|'), new EdgeRouterOptionsValidator().Validate(null, options).Failures);
    }

    [Fact]
    public void NamesLimitsAndUrls_AreChecked()
    {
        var options = Options(
            new CdnTargetOptions { Name = "a", Kind = "webhook", Url = "ftp://hooks.example.com/", Secret = "s", BatchSize = 2, RequestsPerSecond = 0 },
            new CdnTargetOptions { Name = "a", Kind = "cloudflare", ZoneId = "z", ApiToken = "t", Endpoint = "not a url", BatchSize = 501 },
            new CdnTargetOptions { Name = "bad name!", Kind = "bunny", ApiKey = "k" });

        Assert.Equal(
            [
                "EdgeRouter:Cdn:Targets:0 ('a'): url must be an absolute http(s) URL.",
                "EdgeRouter:Cdn:Targets:0 ('a'): batchSize must be between 1 and 1 for kind 'webhook' (was 2).",
                "EdgeRouter:Cdn:Targets:0 ('a'): requestsPerSecond must be above 0.",
                "EdgeRouter:Cdn:Targets:1 ('a'): name is used by another target.",
                "EdgeRouter:Cdn:Targets:1 ('a'): endpoint must be an absolute http(s) URL.",
                "EdgeRouter:Cdn:Targets:1 ('a'): batchSize must be between 1 and 500 for kind 'cloudflare' (was 501).",
                "EdgeRouter:Cdn:Targets:2 ('bad name!'): name must be 1-64 characters of a-z, 0-9, '-' or '_'.",
            ],
            new EdgeRouterOptionsValidator().Validate(null, options).Failures);
    }

    [Fact]
    public void SecretsComeFromTheEnvironment_AndAVariableNotSetStopsTheStart_WithoutItsValueAnywhere()
    {
        var cdn = new CdnOptions { Targets = { new CdnTargetOptions { Name = "cf", Kind = "cloudflare", ZoneId = "z", ApiToken = "${CF_TOKEN}" }, new CdnTargetOptions { Name = "hook", Kind = "webhook", Url = "https://hooks.example.com/", Secret = "${HOOK_SECRET}" } } };

        CdnTargets.ExpandEnvironment(cdn, name => name == "CF_TOKEN" ? "token-from-env" : null);

        Assert.Equal("token-from-env", cdn.Targets[0].ApiToken);
        var options = Options([.. cdn.Targets]);
        Assert.Equal(["EdgeRouter:Cdn:Targets:1 ('hook'): secret refers to environment variable 'HOOK_SECRET', which is not set."], new EdgeRouterOptionsValidator().Validate(null, options).Failures);
    }

    [Fact]
    public void TheRouter_ReadsSecretsFromTheEnvironment_AndRefusesABadTargetAtStart()
    {
        var variable = "EDGEROUTER_TEST_CDN_TOKEN_" + Environment.ProcessId;
        Environment.SetEnvironmentVariable(variable, "token-from-env");
        try
        {
            var good = Resolve(new() { ["EdgeRouter:Cdn:Targets:0:Name"] = "cf", ["EdgeRouter:Cdn:Targets:0:Kind"] = "cloudflare", ["EdgeRouter:Cdn:Targets:0:ZoneId"] = "z", ["EdgeRouter:Cdn:Targets:0:ApiToken"] = "${" + variable + "}" });
            Assert.Equal("token-from-env", good().Cdn.Targets[0].ApiToken);

            var bad = Resolve(new() { ["EdgeRouter:Cdn:Targets:0:Name"] = "cf", ["EdgeRouter:Cdn:Targets:0:Kind"] = "cloudflare" });
            var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => bad());
            Assert.Contains("EdgeRouter:Cdn:Targets:0 ('cf'): zoneId is required for kind 'cloudflare'.", error.Failures);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    /// <summary>The options as the router's own registration binds, expands and validates them.</summary>
    private static Func<EdgeRouterOptions> Resolve(Dictionary<string, string?> settings)
    {
        settings["EdgeRouter:Uploads:AllowAnonymous"] = "true";
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddEdgeRouter(configuration).BuildServiceProvider();
        return () => services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EdgeRouterOptions>>().Value;
    }

    private static EdgeRouterOptions Options(params CdnTargetOptions[] targets)
    {
        var options = new EdgeRouterOptions { SiteUrl = "https://img.example.com/", Uploads = { AllowAnonymous = true } };
        foreach (var target in targets)
        {
            options.Cdn.Targets.Add(target);
        }

        return options;
    }
}

using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Server.Telemetry;

namespace Proximity.Deploy.Tests;

/// <summary><c>AddProximityTelemetry</c> + <c>MapProximityMetrics</c> on a real Kestrel host.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task The_metrics_endpoint_serves_the_Proximity_meters_to_Prometheus_and_nothing_else()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddProximityTelemetry();
        await using var app = builder.Build();
        app.MapProximityMetrics();
        await app.StartAsync(ct);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        var meters = app.Services.GetRequiredService<IMeterFactory>();
        meters.Create(ProximityTelemetry.MeterName).CreateCounter<long>("proximity.deploytest.fixes").Add(3);
        meters.Create("Proximity.Ingest").CreateCounter<long>("proximity.deploytest.rejected").Add(2, new KeyValuePair<string, object?>("reason", "BadJson"));
        meters.Create("Somebody.Else").CreateCounter<long>("other.deploytest.count").Add(1);

        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(ProximityTelemetry.MetricsPath, ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        await app.StopAsync(ct);

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Contains("proximity_deploytest_fixes_total", text);
        Assert.Matches(@"proximity_deploytest_rejected_total\{[^}]*reason=""BadJson""[^}]*\} 2", text);
        Assert.DoesNotContain("other_deploytest_count", text);
        Assert.Contains("dotnet_gc_collections", text); // runtime instrumentation
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Activities_of_the_Proximity_source_are_recorded_only_when_traces_are_exported(bool otlpConfigured)
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (otlpConfigured) builder.Configuration[Proximity.Grains.ProximityTracing.OtlpEndpointVariable] = "http://127.0.0.1:9";
        builder.AddProximityTelemetry();
        await using var app = builder.Build();
        await app.StartAsync(ct);

        // A private source name under Proximity.*: other tests' listeners in this process cannot interfere.
        using var source = new System.Diagnostics.ActivitySource(ProximityTelemetry.ActivitySourceName + ".DeployTest" + otlpConfigured);
        using var activity = source.StartActivity("mqtt message");
        await app.StopAsync(ct);
        if (otlpConfigured)
        {
            Assert.NotNull(activity);
            Assert.True(activity.Recorded);
        }
        else Assert.Null(activity); // no listener: the hot path builds no Activity at all
    }
}

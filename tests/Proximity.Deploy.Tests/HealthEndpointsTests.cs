using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Proximity.Server.Commands;
using Proximity.Server.Health;

namespace Proximity.Deploy.Tests;

/// <summary><c>MapProximityHealth</c>: the paths the probes, the image's HEALTHCHECK and <c>proximity health</c> use.</summary>
public sealed class HealthEndpointsTests
{
    private sealed class SwitchableCheck : IHealthCheck
    {
        public volatile bool Healthy;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("database unreachable"));
    }

    [Fact]
    public async Task Live_stays_up_while_a_dependency_fails_and_ready_follows_the_checks()
    {
        var ct = TestContext.Current.CancellationToken;
        var check = new SwitchableCheck();
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddHealthChecks().AddCheck("database", check);
        await using var app = builder.Build();
        app.MapProximityHealth();
        await app.StartAsync(ct);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(HealthEndpoints.LivePath, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(HealthEndpoints.ReadyPath, ct)).StatusCode);
        Assert.Equal(0, await HealthCommand.RunAsync(Options.Parse(["--http-port", address.Port.ToString()])));
        Assert.Equal(1, await HealthCommand.RunAsync(Options.Parse(["--http-port", address.Port.ToString(), "--ready"])));

        check.Healthy = true;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(HealthEndpoints.ReadyPath, ct)).StatusCode);
        Assert.Equal(0, await HealthCommand.RunAsync(Options.Parse(["--http-port", address.Port.ToString(), "--ready"])));
        await app.StopAsync(ct);
    }

    [Fact]
    public void The_deployments_probe_the_paths_the_server_maps()
    {
        string k8s = Repo.Read("deploy/k8s/proximity.yaml");
        Assert.Contains($"path: {HealthEndpoints.ReadyPath}", k8s);
        Assert.Contains($"path: {HealthEndpoints.LivePath}", k8s);
        Assert.Equal(new Uri($"http://127.0.0.1:5080{HealthEndpoints.LivePath}"), HealthCommand.HealthUrl(Options.Parse([]), null));
        Assert.Equal(new Uri($"http://127.0.0.1:5080{HealthEndpoints.ReadyPath}"), HealthCommand.HealthUrl(Options.Parse(["--ready"]), null));
    }
}

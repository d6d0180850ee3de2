using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Grains.Durability;
using Proximity.Ingest;
using Proximity.Protocol;
using Proximity.Server.Api;

namespace Proximity.Api.Tests;

/// <summary>
/// One node in process, wired as <c>proximity run --case</c> wires it (silo, embedded broker, API with the live
/// bridge) on free loopback ports: in memory, or with <paramref name="storage"/> as <c>--storage postgres</c>.
/// </summary>
public sealed class LiveNode : IAsyncDisposable
{
    private LiveNode(WebApplication app, int mqttPort)
    {
        App = app;
        MqttPort = mqttPort;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public WebApplication App { get; }
    public int MqttPort { get; }
    public Uri Address { get; }
    public IRegistry Registry => App.Services.GetRequiredService<IRegistry>();

    public static async Task<LiveNode> StartAsync(CaseFile caseFile, StorageChoice? storage = null)
    {
        var ct = TestContext.Current.CancellationToken;
        int mqttPort = FreePort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proximity:Auth:SigningKey"] = ApiHost.SigningKey,
            ["Proximity:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Proximity:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Proximity:Silo:ClusterId"] = "live-" + Guid.NewGuid().ToString("N")[..8],
            ["Proximity:SecretHashIterations"] = "1000",
        });
        var live = caseFile;
        if (storage is { Postgres: true })
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [StorageChoice.StorageKey] = "postgres",
                [StorageChoice.ConnectionKey] = storage.ConnectionString,
                [RegistrySync.IntervalKey] = "0.5",
            });
            (live, var loaded) = await DurableRegistry.LoadAsync(storage, caseFile, 1000, ct);
            builder.Services.AddSingleton(loaded);
        }
        builder.AddProximitySilo(live);
        builder.AddProximityIngest(o => { o.Port = mqttPort; o.BindAddress = "127.0.0.1"; });
        builder.AddProximityApi().AddLiveApiBridge();
        var app = builder.Build();
        app.MapProximityApi();
        // In memory the API's registry gets the case as `proximity run` gives it: before the node starts.
        if (storage is not { Postgres: true })
            await CaseImport.ImportAsync(app.Services.GetRequiredService<IRegistry>(), caseFile, DateTimeOffset.UtcNow);
        await app.StartAsync(ct);
        await app.Services.GetRequiredService<IIngestStatus>().WhenReady.WaitAsync(TimeSpan.FromSeconds(60), ct);
        return new LiveNode(app, mqttPort);
    }

    /// <summary>An API client for a role, like <see cref="ApiHost.Client"/>.</summary>
    public HttpClient Client(string role, string user)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.Token(role, user));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

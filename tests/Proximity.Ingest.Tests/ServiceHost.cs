using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proximity.Grains;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Ingest.Tests;

/// <summary>The live service as <c>proximity run</c> wires it (silo + ingest + outputs), on free loopback ports.</summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ServiceHost(IHost host, int mqttPort)
    {
        _host = host;
        MqttPort = mqttPort;
    }

    public int MqttPort { get; }
    public IServiceProvider Services => _host.Services;
    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();
    public IMeterFactory Meters => Services.GetRequiredService<IMeterFactory>();

    /// <param name="settings">more configuration (for example <c>Proximity:Storage=postgres</c> and its connection string)</param>
    public static async Task<ServiceHost> StartAsync(CaseFile caseFile, Action<IngestOptions>? ingest = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        int mqttPort = FreePort();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proximity:Silo:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Proximity:Silo:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Proximity:Silo:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Proximity:SecretHashIterations"] = "1000",
            ["Proximity:Integrations:0:Id"] = "dispatch-cfg",
            ["Proximity:Integrations:0:Secret"] = "cfg-secret",
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.AddProximitySilo(caseFile);
        builder.AddProximityIngest(o =>
        {
            o.Port = mqttPort;
            o.BindAddress = "127.0.0.1";
            ingest?.Invoke(o);
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<IIngestStatus>().WhenReady.WaitAsync(TimeSpan.FromSeconds(60));
        return new ServiceHost(host, mqttPort);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Per suffix s: offender Os (ankle As), victim Vs (phone Ps), contact ban 500/1000 m at level 3; integration meldkamer-1.</summary>
    public static CaseFile Case(params string[] suffixes) => new(
        [.. suffixes.Select(s => new PersonSpec("O" + s, [new DeviceSpec("A" + s, "ankle-secret")]))],
        [.. suffixes.Select(s => new PersonSpec("V" + s, [new DeviceSpec("P" + s, "phone-secret")]))],
        [.. suffixes.Select(s => new ContactBan
        {
            Id = "ban" + s, OffenderId = "O" + s, VictimId = "V" + s, MinDistanceMeters = 500, WarningDistanceMeters = 1000, MonitoringLevel = 3,
        })],
        [new IntegrationSpec("meldkamer-1", "meldkamer-secret")]);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }
}

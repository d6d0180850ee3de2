using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// A real silo in PostgreSQL mode (membership, grain state, alerts and outbox, position history) the way
/// <c>proximity run --storage postgres</c> builds it, with a hand-moved monitoring clock and a test MQTT publisher.
/// </summary>
public sealed class DurableSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private DurableSilo(IHost host, int siloPort, int gatewayPort)
    {
        _host = host;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }
    public int GatewayPort { get; }

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();
    public IServiceProvider Services => _host.Services;

    /// <summary>One message of fixes from a device, handed on by this node as its ingest does.</summary>
    public Task<FixOutcome> Report(string deviceId, params PositionFix[] fixes) =>
        Services.GetRequiredService<FixRoutes>().OnPositionsAsync(Services.GetRequiredService<Registry.ProximityRegistry>().Device(deviceId)!, fixes);

    /// <summary>Offender Oi with ankle monitor ai, victim Vi with phone pi, contact ban bani 500/1000 m.</summary>
    public static CaseFile Case { get; } = new(
        [.. Enumerable.Range(1, 4).Select(i => new PersonSpec($"O{i}", [new DeviceSpec($"a{i}", "secret")]))],
        [.. Enumerable.Range(1, 4).Select(i => new PersonSpec($"V{i}", [new DeviceSpec($"p{i}", "secret")]))],
        [.. Enumerable.Range(1, 4).Select(i => (Ban)new ContactBan
        {
            Id = $"ban{i}", OffenderId = $"O{i}", VictimId = $"V{i}", MinDistanceMeters = 500, WarningDistanceMeters = 1000, MonitoringLevel = 2,
        })],
        []);

    /// <param name="preferLocal">grains activate on the silo whose client calls first (tests choose where state lives)</param>
    /// <param name="sameEndpointAs">restart in place of a silo (its ports): Orleans then retires that silo's older
    /// generation at once, as a node restarted after a crash does</param>
    public static async Task<DurableSilo> StartAsync(string connectionString, TimeProvider time, IMqttPublisher mqtt, CancellationToken ct,
        bool preferLocal = false, DurableSilo? sameEndpointAs = null)
    {
        int siloPort = sameEndpointAs?.SiloPort ?? FreePort(), gatewayPort = sameEndpointAs?.GatewayPort ?? FreePort();
        var builder = Host.CreateApplicationBuilder();
        if (preferLocal) builder.Services.AddSingleton<Orleans.Runtime.PlacementStrategy, Orleans.Runtime.PreferLocalPlacement>();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddKeyedSingleton(ProximitySilo.ClockKey, time);
        builder.Services.AddSingleton(mqtt);
        builder.Services.AddProximityGrainServices(Case);
        builder.Services.Configure<ProximityOptions>(o =>
        {
            o.SecretHashIterations = 1000;
            o.OffenderReportingInterval = TimeSpan.FromHours(1); // no offline alerts in these tests
            o.VictimReportingInterval = TimeSpan.FromHours(1);
            o.EscalateCriticalAfter = TimeSpan.Zero;
        });
        builder.Services.Configure<OutputOptions>(o => { o.RetryPause = TimeSpan.FromMilliseconds(200); o.DrainOnStop = TimeSpan.FromMilliseconds(500); });
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = "durable-test"; o.ServiceId = "proximity"; });
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort);
            silo.UseProximityPostgres(connectionString, migrate: true);
        });
        // Only the pass at start: a test calls RelayOnceAsync itself to look again.
        builder.Services.AddSingleton(new OutboxOptions { MinAge = TimeSpan.Zero, Period = TimeSpan.FromHours(1) });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new DurableSilo(host, siloPort, gatewayPort);
    }

    /// <summary>Stops as a crash looks to the cluster: not gracefully (grain state writes on the way out fail), the
    /// membership row left as it was.</summary>
    public async Task CrashAsync()
    {
        _stopped = true;
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            try { await _host.StopAsync(cancelled.Token); } catch (OperationCanceledException) { }
        }
        _host.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

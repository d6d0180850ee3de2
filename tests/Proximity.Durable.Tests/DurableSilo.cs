using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// A real silo in PostgreSQL mode (membership, grain state, alerts and outbox, position history) the way
/// <c>proximity run --storage postgres</c> builds it, with a hand-moved monitoring clock and a test MQTT publisher.
/// </summary>
public sealed class DurableSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private DurableSilo(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();
    public IServiceProvider Services => _host.Services;

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
    public static async Task<DurableSilo> StartAsync(string connectionString, TimeProvider time, IMqttPublisher mqtt, CancellationToken ct, bool preferLocal = false)
    {
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
            silo.ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort());
            silo.UseProximityPostgres(connectionString, migrate: true);
        });
        // Only the pass at start: a test calls RelayOnceAsync itself to look again.
        builder.Services.AddSingleton(new OutboxOptions { MinAge = TimeSpan.Zero, Period = TimeSpan.FromHours(1) });
        var host = builder.Build();
        await host.StartAsync(ct);
        return new DurableSilo(host);
    }

    /// <summary>Stops as a crash would look to the cluster: no graceful deactivation (grain state writes on the way
    /// out fail); then, with <paramref name="declareDead"/>, the membership row says dead at once, as other silos
    /// would declare it after their probes fail (a lone next silo would otherwise wait for it).</summary>
    public async Task CrashAsync(string connectionString, bool declareDead = true)
    {
        _stopped = true;
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            try { await _host.StopAsync(cancelled.Token); } catch (OperationCanceledException) { }
        }
        var address = _host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        _host.Dispose();
        if (!declareDead) return;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand($"UPDATE orleans_membership SET status = {(int)SiloStatus.Dead} WHERE silo_address = $1", connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = address.ToParsableString() });
        await cmd.ExecuteNonQueryAsync();
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

using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
using Proximity.Storage.Tests;
using static Proximity.Grains.Tests.Fixes;

namespace Proximity.Grains.Durable.Tests;

/// <summary>The live grains on PostgreSQL: decision state across a silo crash, and the alert outbox.</summary>
public sealed class DurableTests(PostgresFixture fixture) : IAsyncLifetime
{
    private readonly ManualTime _time = new();
    private string _cs = "";

    public async ValueTask InitializeAsync() => _cs = await fixture.Server.CreateDatabaseAsync(migrate: false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_open_breach_episode_continues_after_a_silo_crash_and_raises_no_second_alert()
    {
        var mqtt1 = new RecordingMqtt();
        var silo1 = await DurableSilo.StartAsync(_cs, _time, mqtt1, Ct);
        var now = _time.GetUtcNow();
        await silo1.Report("p1", At("p1", 1, now, 0));
        await silo1.Report("a1", At("a1", 1, now, 120));
        var first = AlertJson.Deserialize((await mqtt1.WaitFor(m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal), "breach O1")).Payload)!;
        Assert.Equal(AlertType.ContactBanBreach, first.Type);
        await WaitUntilPublishedAsync(first.Id);
        // The open episode was written when it was raised, not only when the grain goes away.
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM orleans_grain_state WHERE state_name = 'offender' AND grain_id LIKE '%off-O1' AND payload IS NOT NULL"));
        // History is written in batches off the decision path; what was accepted before the crash was written.
        await silo1.Services.GetRequiredService<Storage.Positions.PositionWriteBuffer>().FlushAsync(Ct);
        await silo1.CrashAsync();

        // The node restarts (same endpoint, as a service manager restarts it).
        var mqtt2 = new RecordingMqtt();
        await using var silo2 = await DurableSilo.StartAsync(_cs, _time, mqtt2, Ct, sameEndpointAs: silo1);
        // Still next to the victim: the episode that was open goes on.
        for (int i = 1; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await silo2.Report("a1", At("a1", 1 + i, _time.GetUtcNow(), 100 + i));
        }
        await silo2.Report("p1", At("p1", 2, _time.GetUtcNow(), 0));

        Assert.Contains(first.Id, await silo2.Grains.OffenderGrain("O1").GetOpenAlertIds());
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM alert WHERE offender_id = 'O1' AND type = 'ContactBanBreach'"));
        Assert.DoesNotContain(mqtt2.Messages, m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal));
        // The device's health came back too, and the position history has every accepted fix.
        Assert.Equal(6, (await silo2.Grains.DeviceGrain("a1").GetStatus()).LastSeq);
        await silo2.Services.GetRequiredService<Storage.Positions.PositionWriteBuffer>().FlushAsync(Ct);
        Assert.Equal(6L, await ScalarAsync("SELECT count(*) FROM position_fix WHERE device_id = 'a1'"));
    }

    [Fact]
    public async Task A_node_stopped_with_a_device_alert_open_starts_again_with_the_alert_still_open()
    {
        var mqtt1 = new RecordingMqtt();
        var silo1 = await DurableSilo.StartAsync(_cs, _time, mqtt1, Ct);
        var now = _time.GetUtcNow();
        await silo1.Report("a2", At("a2", 1, now, 0)); // its last fix goes into the alert's evidence
        await silo1.Grains.DeviceGrain("a2").OnEvent(new DeviceEvent(2, now, DeviceEventType.StrapOpen, 80));
        var strap = AlertJson.Deserialize((await mqtt1.WaitFor(m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal), "strap tamper")).Payload)!;
        Assert.Equal(AlertType.StrapTamper, strap.Type);
        Assert.Equal(1, Assert.Single(strap.Evidence.Fixes).Seq);
        await silo1.DisposeAsync();

        // Every device's grain is activated at start: one whose stored alert could not be read stopped the node.
        await using var silo2 = await DurableSilo.StartAsync(_cs, _time, new RecordingMqtt(), Ct, sameEndpointAs: silo1);
        Assert.True((await silo2.Grains.DeviceGrain("a2").GetStatus()).StrapOpen);
        var stored = (await silo2.Grains.AlertGrain(strap.Id).Get())!;
        Assert.Equal(AlertStatus.Open, stored.Status);
        Assert.Equal(1, Assert.Single(stored.Alert.Evidence.Fixes).Seq);
        await silo2.Grains.DeviceGrain("a2").OnEvent(new DeviceEvent(3, _time.GetUtcNow(), DeviceEventType.StrapClosed, 80));
        Assert.False((await silo2.Grains.DeviceGrain("a2").GetStatus()).StrapOpen);
    }

    [Fact]
    public async Task A_message_redelivered_after_a_silo_crash_is_not_judged_again()
    {
        var mqtt1 = new RecordingMqtt();
        var silo1 = await DurableSilo.StartAsync(_cs, _time, mqtt1, Ct);
        var t0 = _time.GetUtcNow();
        // O4 waits next to V4's home; the victim's first fix raises the breach.
        await silo1.Report("a4", At("a4", 1, t0, 100));
        await silo1.Report("p4", [.. Enumerable.Range(0, 27).Select(i => At("p4", 1 + i, t0.AddSeconds(1 + 10 * i), 0))]);
        // One message with two more fixes there; then O4 drives off (10 m/s) until the episode is over.
        PositionFix[] message = [At("a4", 2, t0.AddSeconds(10), 100), At("a4", 3, t0.AddSeconds(20), 100)];
        await silo1.Report("a4", message);
        for (int k = 4; k <= 25; k++) await silo1.Report("a4", At("a4", k, t0.AddSeconds(10 * k), 100 + 100 * (k - 3)));
        Assert.Empty(await silo1.Grains.OffenderGrain("O4").GetOpenAlertIds());
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM alert WHERE offender_id = 'O4' AND type = 'ContactBanBreach' AND cleared_at IS NOT NULL"));
        await silo1.CrashAsync();

        // The broker never got that message's PUBACK: the restarted node gets it again.
        var mqtt2 = new RecordingMqtt();
        await using var silo2 = await DurableSilo.StartAsync(_cs, _time, mqtt2, Ct, sameEndpointAs: silo1);
        var outcome = await silo2.Report("a4", message);
        Assert.Equal(message.Length, outcome.Duplicates);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM alert WHERE offender_id = 'O4' AND type = 'ContactBanBreach'"));
        Assert.Empty(await silo2.Grains.OffenderGrain("O4").GetOpenAlertIds());
    }

    [Fact]
    public async Task An_alert_is_in_the_alerts_table_before_the_broker_sees_it()
    {
        var mqtt = new CheckingMqtt(async id => await ScalarAsync($"SELECT count(*) FROM alert WHERE id = '{id}'") == 1);
        await using var silo = await DurableSilo.StartAsync(_cs, _time, mqtt, Ct);
        var now = _time.GetUtcNow();
        await silo.Report("p2", At("p2", 1, now, 0));
        await silo.Report("a2", At("a2", 1, now, 100));
        var (alertId, stored) = await mqtt.Published.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(stored, $"alert {alertId} reached the broker before it was in the alerts table");
        await WaitUntilPublishedAsync(alertId);
    }

    [Fact]
    public async Task An_alert_whose_publish_failed_stays_in_the_outbox_and_is_published_once_after_a_restart()
    {
        var failing = new CheckingMqtt(_ => Task.FromResult(true)) { Fail = true };
        string alertId;
        await using (var silo1 = await DurableSilo.StartAsync(_cs, _time, failing, Ct))
        {
            var now = _time.GetUtcNow();
            await silo1.Report("p3", At("p3", 1, now, 0));
            await silo1.Report("a3", At("a3", 1, now, 100));
            // Raised means recorded: the grain call returned after the alert grain stored it.
            alertId = (await silo1.Grains.OffenderGrain("O3").GetOpenAlertIds()).Single();
            await failing.Attempted.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM alert WHERE id = '{alertId}' AND published_at IS NULL"));
        }
        Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM alert WHERE id = '{alertId}' AND published_at IS NULL"));

        var mqtt = new RecordingMqtt();
        await using var silo2 = await DurableSilo.StartAsync(_cs, _time, mqtt, Ct);
        var published = await mqtt.WaitFor(m => m.Payload.Contains(alertId, StringComparison.Ordinal), "the outbox alert");
        Assert.Equal(alertId, AlertJson.Deserialize(published.Payload)!.Id);
        await WaitUntilPublishedAsync(alertId);
        // Another pass finds nothing left to publish; the alert went out exactly once.
        Assert.Equal(0, await silo2.Services.GetRequiredService<OutboxRelay>().RelayOnceAsync(Ct));
        Assert.Single(mqtt.Messages, m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal) && m.Payload.Contains(alertId, StringComparison.Ordinal));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM alert WHERE offender_id = 'O3'"));
    }

    [Fact]
    public void The_decision_state_round_trips_through_json()
    {
        var bans = DurableSilo.Case.Bans.Where(b => b.OffenderId == "O4").ToArray();
        var monitor = new OffenderMonitor("O4", bans);
        var events = new List<MonitorEvent>();
        var now = _time.GetUtcNow();
        monitor.OnVictimFix("V4", At("p4", 1, now, 0), false, events);
        monitor.OnOffenderFix(At("a4", 1, now, 100), false, events);
        var raised = Assert.Single(events, e => e.Kind == MonitorEventKind.Raised && e.Alert.Type == AlertType.ContactBanBreach);

        string json = JsonSerializer.Serialize(monitor.Save(), OffenderGrain.StateJson);
        var restored = new OffenderMonitor("O4", bans);
        restored.Restore(JsonSerializer.Deserialize<MonitorState>(json, OffenderGrain.StateJson)!);
        Assert.Contains(restored.OpenAlerts, a => a.Id == raised.Alert.Id);
        events.Clear();
        restored.OnOffenderFix(At("a4", 2, now.AddSeconds(5), 110), false, events);
        Assert.DoesNotContain(events, e => e.Kind == MonitorEventKind.Raised && e.Alert.Type == AlertType.ContactBanBreach);
    }

    private async Task WaitUntilPublishedAsync(string alertId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await ScalarAsync($"SELECT count(*) FROM alert WHERE id = '{alertId}' AND published_at IS NOT NULL") == 0)
            await Task.Delay(100, timeout.Token); // polling the database: there is no signal for a row changing
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_cs);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}

/// <summary>An MQTT publisher that, for each alert, asks whether it is already stored; can also fail every publish.</summary>
public sealed class CheckingMqtt(Func<string, Task<bool>> isStored) : IMqttPublisher
{
    public bool Fail { get; init; }
    public TaskCompletionSource<(string AlertId, bool Stored)> Published { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource Attempted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (!topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal)) return;
        Attempted.TrySetResult();
        if (Fail) throw new IOException("broker unreachable (test)");
        var alert = AlertJson.Deserialize(System.Text.Encoding.UTF8.GetString(payload.Span))!;
        Published.TrySetResult((alert.Id, await isStored(alert.Id)));
    }
}

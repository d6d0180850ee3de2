using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

/// <summary>An offender grain's durable state: the decision core's state as JSON, what the fix gate had seen,
/// and alert events not yet handed to their alert grains.</summary>
[GenerateSerializer]
public sealed class OffenderState
{
    /// <summary><see cref="MonitorState"/> as System.Text.Json (plain data, independent of Orleans' serializer).</summary>
    [Id(0)] public string? Monitor { get; set; }
    /// <summary>JSON array of <see cref="MonitorEvent"/> whose delivery failed (retried on the next fix or clock tick).</summary>
    [Id(3)] public string? Undelivered { get; set; }
    /// <summary><see cref="FixGateState"/> as JSON: the sequence numbers judged, so a message delivered again after
    /// a restart is a duplicate, not a backlog.</summary>
    [Id(4)] public string? Gate { get; set; }
    /// <summary>The device alert for which the victims were told the offender is unmonitored, until told it is over.</summary>
    [Id(5)] public string? UnmonitoredSince { get; set; }
}

/// <summary>
/// Judges one offender's bans with the shared decision core (<see cref="OffenderMonitor"/>) against the
/// offender's fixes and the fixes the offender's victims' grains forward. The monitor's state is written to
/// grain storage after every call that raised or cleared an alert, and otherwise at most every
/// <see cref="ProximityOptions.StateSaveInterval"/>, so an open episode survives a silo crash and reactivation.
/// </summary>
public sealed class OffenderGrain(
    [PersistentState("offender", ProximitySilo.StorageName)] IPersistentState<OffenderState> state,
    ProximityRegistry registry,
    IDeviceMessenger messenger,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options,
    StorageChoice storage,
    DecisionMetrics metrics,
    ILogger<OffenderGrain> logger) : Grain, IOffenderGrain
{
    /// <summary>How the decision state is written into grain state.</summary>
    public static readonly JsonSerializerOptions StateJson = new(JsonSerializerDefaults.General);

    private readonly ProximityOptions _options = options.Value;
    private readonly ArrivalLateness _lateness = new(options.Value.Decisions.LateAfter);
    private readonly List<MonitorEvent> _events = [];
    private readonly List<MonitorEvent> _undelivered = [];
    private readonly FixGate _gate = new();
    private OffenderMonitor _monitor = null!;
    private string _id = "";
    private int _commandedInterval;
    private bool _dirty;
    private string? _unmonitoredSince;
    private long _lastSaveTicks = Environment.TickCount64;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = GrainKeys.IdOf(this.GetPrimaryKeyString());
        _monitor = new OffenderMonitor(_id, registry.BansOf(_id), _options.Decisions);
        RestoreState();
        this.RegisterGrainTimer(OnClock, new GrainTimerCreationOptions(_options.ClockPeriod, _options.ClockPeriod));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && storage.KeepsStateOn(reason)) await SaveAsync();
    }

    public Task RefreshBans()
    {
        _monitor.UpdateBans(registry.BansOf(_id));
        return Task.CompletedTask;
    }

    public async Task<FixOutcome> OnOffenderFixes(PositionFix[] fixes)
    {
        int evaluated = 0, duplicates = 0, stale = 0;
        var now = time.GetUtcNow();
        long started = metrics.Start();
        _events.Clear();
        foreach (var fix in fixes)
        {
            switch (_gate.Admit(fix.DeviceId, fix.Seq, fix.Timestamp))
            {
                case FixAdmission.Duplicate: duplicates++; continue;
                case FixAdmission.Stale:
                    // Older than what was judged already (a backlog after a live fix): judged as history,
                    // without moving the current position backwards, as replay does.
                    stale++;
                    _monitor.OnOffenderBackfill(fix, _events);
                    continue;
            }
            evaluated++;
            _monitor.OnOffenderFix(fix, _lateness.IsLate(fix, now), _events);
        }
        _dirty |= evaluated + stale > 0;
        metrics.Decided(started);
        await Deliver();
        CommandInterval();
        // Monitored again. Usually the device's own grain says so too (the victims hear it once); but a device taken
        // off while silent never does, and then the offender's first fix from the replacement is what says it.
        if (evaluated > 0 && _unmonitoredSince is { } silentAlert)
        {
            try { await OnProtection(false, silentAlert); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("offender {Offender}: victims not yet told protection is restored ({Error}); told on the next fix", _id, e.Message);
            }
        }
        return new FixOutcome(evaluated, duplicates, stale);
    }

    public async Task OnVictimFix(string victimId, PositionFix fix, bool late)
    {
        _events.Clear();
        long started = metrics.Start();
        _monitor.OnVictimFix(victimId, fix, late, _events);
        metrics.Decided(started);
        _dirty = true;
        await Deliver();
        CommandInterval();
    }

    public async Task OnProtection(bool degraded, string alertId)
    {
        var now = time.GetUtcNow();
        var notice = degraded
            ? new VictimNotice(NoticeLevel.ProtectionDegraded, VictimAdvice.OffenderUnmonitored, alertId, now)
            : new VictimNotice(NoticeLevel.ProtectionRestored, VictimAdvice.Restored, alertId, now);
        await Task.WhenAll(registry.VictimsOf(_id).Select(v => GrainFactory.VictimGrain(v).Notify(notice)));
        // Remembered once the victims were told, and written at once: after a restart the next fix must still say it is over.
        string? unmonitored = degraded ? alertId : _unmonitoredSince == alertId ? null : _unmonitoredSince;
        if (unmonitored == _unmonitoredSince) return;
        _unmonitoredSince = unmonitored;
        _dirty = true;
        if (storage.OutlivesSilo) await SaveAsync();
    }

    public Task<string[]> GetOpenAlertIds() => Task.FromResult(_monitor.OpenAlerts.Select(a => a.Id).ToArray());

    private async Task OnClock(CancellationToken ct)
    {
        _events.Clear();
        _monitor.OnClock(time.GetUtcNow(), _events);
        await Deliver();
        CommandInterval();
    }

    // Each alert is recorded (and published) by its own grain before the victim hears of it. An event whose
    // delivery fails (the database away) is kept and tried again on the next fix or clock tick: the monitor has
    // moved on and will not produce it again. Then the state is saved: at once when an episode changed.
    private async Task Deliver()
    {
        bool changed = _events.Count > 0;
        if (_events.Count > 0 || _undelivered.Count > 0)
        {
            var events = _undelivered.Concat(_events).ToArray();
            _events.Clear();
            _undelivered.Clear();
            var now = time.GetUtcNow();
            var results = await Task.WhenAll(events.Select(async e =>
            {
                try
                {
                    var grain = GrainFactory.AlertGrain(e.Alert.Id);
                    if (e.Kind == MonitorEventKind.Cleared) { await grain.Clear(e.Alert); return true; }
                    await grain.Raise(e.Alert);
                    if (e.Alert.VictimId is { } victim && VictimAdvice.ForRaised(e.Alert, now) is { } notice)
                        await GrainFactory.VictimGrain(victim).Notify(notice);
                    return true;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "offender {Offender}: alert {AlertId} ({Kind}) not delivered; retrying later", _id, e.Alert.Id, e.Kind);
                    return false;
                }
            }));
            for (int i = 0; i < events.Length; i++) if (!results[i]) _undelivered.Add(events[i]);
            changed |= _undelivered.Count > 0;
        }
        // In memory the state lives as long as the silo anyway: it is written only when the grain deactivates.
        if (storage.OutlivesSilo && (changed || (_dirty && Environment.TickCount64 - _lastSaveTicks >= _options.StateSaveInterval.TotalMilliseconds)))
            await SaveAsync();
        else _dirty |= changed;
    }

    private void RestoreState()
    {
        var s = state.State;
        _unmonitoredSince = s.UnmonitoredSince;
        if (s.Monitor is null) return;
        try
        {
            if (JsonSerializer.Deserialize<MonitorState>(s.Monitor, StateJson) is { } saved) _monitor.Restore(saved);
            if (s.Undelivered is not null) _undelivered.AddRange(JsonSerializer.Deserialize<MonitorEvent[]>(s.Undelivered, StateJson) ?? []);
            // Seen sequence numbers come back: a message delivered again (its PUBACK lost in the crash) is a duplicate.
            if (s.Gate is not null && JsonSerializer.Deserialize<FixGateState>(s.Gate, StateJson) is { } gate) _gate.Restore(gate);
        }
        catch (JsonException e)
        {
            logger.LogError(e, "offender {Offender}: saved decision state unreadable; starting fresh", _id);
            _monitor = new OffenderMonitor(_id, registry.BansOf(_id), _options.Decisions);
        }
    }

    private async Task SaveAsync()
    {
        var s = state.State;
        s.Monitor = JsonSerializer.Serialize(_monitor.Save(), StateJson);
        s.Undelivered = _undelivered.Count == 0 ? null : JsonSerializer.Serialize(_undelivered, StateJson);
        s.Gate = JsonSerializer.Serialize(_gate.Save(), StateJson);
        s.UnmonitoredSince = _unmonitoredSince;
        if (!await state.TryWriteStateAsync(logger, "offender", _id)) return;
        _dirty = false;
        _lastSaveTicks = Environment.TickCount64;
    }

    // Near a zone or a victim (an open warning or breach) the ankle monitor reports fast; far away, slowly.
    private void CommandInterval()
    {
        int wanted = _monitor.AnyBanEpisodeOpen ? _options.NearIntervalSeconds : _options.FarIntervalSeconds;
        if (wanted == _commandedInterval) return;
        bool first = _commandedInterval == 0;
        _commandedInterval = wanted;
        if (first && wanted == _options.FarIntervalSeconds) return; // devices start on their normal profile
        foreach (var device in registry.DevicesOf(_id)) messenger.SetInterval(device, wanted);
    }
}

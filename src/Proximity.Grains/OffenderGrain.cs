using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

/// <summary>
/// Judges one offender's bans with the shared decision core (<see cref="OffenderMonitor"/>) against the
/// offender's fixes and the fixes the offender's victims' grains forward. The monitor is runtime state rebuilt
/// from the bans on activation (a later storage issue persists its decision state).
/// </summary>
public sealed class OffenderGrain(
    ProximityRegistry registry,
    IDeviceMessenger messenger,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options) : Grain, IOffenderGrain
{
    private readonly ProximityOptions _options = options.Value;
    private readonly List<MonitorEvent> _events = [];
    private readonly FixGate _gate = new();
    private OffenderMonitor _monitor = null!;
    private string _id = "";
    private int _commandedInterval;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = GrainKeys.IdOf(this.GetPrimaryKeyString());
        _monitor = new OffenderMonitor(_id, registry.BansOf(_id), _options.Decisions);
        this.RegisterGrainTimer(OnClock, new GrainTimerCreationOptions(_options.ClockPeriod, _options.ClockPeriod));
        return Task.CompletedTask;
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
            _monitor.OnOffenderFix(fix, now - fix.Timestamp > _options.Decisions.LateAfter, _events);
        }
        await Deliver();
        CommandInterval();
        return new FixOutcome(evaluated, duplicates, stale);
    }

    public async Task OnVictimFix(string victimId, PositionFix fix, bool late)
    {
        _events.Clear();
        _monitor.OnVictimFix(victimId, fix, late, _events);
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
    }

    public Task<string[]> GetOpenAlertIds() => Task.FromResult(_monitor.OpenAlerts.Select(a => a.Id).ToArray());

    private async Task OnClock(CancellationToken ct)
    {
        _events.Clear();
        _monitor.OnClock(time.GetUtcNow(), _events);
        await Deliver();
        CommandInterval();
    }

    // Each alert is recorded (and published) by its own grain before the victim hears of it.
    private async Task Deliver()
    {
        if (_events.Count == 0) return;
        var events = _events.ToArray();
        _events.Clear();
        var now = time.GetUtcNow();
        await Task.WhenAll(events.Select(async e =>
        {
            var grain = GrainFactory.AlertGrain(e.Alert.Id);
            if (e.Kind == MonitorEventKind.Cleared) { await grain.Clear(e.Alert); return; }
            await grain.Raise(e.Alert);
            if (e.Alert.VictimId is { } victim && VictimAdvice.ForRaised(e.Alert, now) is { } notice)
                await GrainFactory.VictimGrain(victim).Notify(notice);
        }));
    }

    // Near a zone or a victim (an open warning or breach) the ankle monitor reports fast; far away, slowly.
    private void CommandInterval()
    {
        int wanted = _monitor.OpenAlerts.Any(a => a.Type != AlertType.SuspectedJamming) ? _options.NearIntervalSeconds : _options.FarIntervalSeconds;
        if (wanted == _commandedInterval) return;
        bool first = _commandedInterval == 0;
        _commandedInterval = wanted;
        if (first && wanted == _options.FarIntervalSeconds) return; // devices start on their normal profile
        foreach (var device in registry.DevicesOf(_id)) messenger.SetInterval(device, wanted);
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

[GenerateSerializer]
public sealed class VictimState
{
    /// <summary>The latest notices sent to the victim's devices (newest last).</summary>
    [Id(0)] public List<VictimNotice> Notices { get; set; } = [];
}

/// <summary>
/// A victim: forwards each of the victim's fixes to the offenders the victim is protected from (an offender may
/// have several victims and a victim several offenders), and sends notices to the victim's devices.
/// </summary>
public sealed class VictimGrain(
    ProximityRegistry registry,
    IDeviceMessenger messenger,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options) : Grain, IVictimGrain
{
    private const int KeepNotices = 50;
    private readonly ProximityOptions _options = options.Value;
    private readonly ArrivalLateness _lateness = new(options.Value.Decisions.LateAfter);
    private readonly FixGate _gate = new();
    private readonly VictimState _state = new();
    private string _id = "";
    private IReadOnlyList<string>? _offenderIds;
    private IOffenderGrain[] _offenders = [];
    // The device alert for which the victim was told their own device is silent, until told it is over.
    private string? _ownDeviceSilent;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = GrainKeys.IdOf(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public async Task<FixOutcome> OnVictimFixes(PositionFix[] fixes)
    {
        int evaluated = 0, duplicates = 0, stale = 0;
        var offenders = Offenders();
        var now = time.GetUtcNow();
        foreach (var fix in fixes)
        {
            switch (_gate.Admit(fix.DeviceId, fix.Seq, fix.Timestamp))
            {
                case FixAdmission.Duplicate: duplicates++; continue;
                case FixAdmission.Stale: stale++; continue;
            }
            evaluated++;
            bool late = _lateness.IsLate(fix, now);
            if (offenders.Length == 1) await offenders[0].OnVictimFix(_id, fix, late);
            else await Task.WhenAll(offenders.Select(o => o.OnVictimFix(_id, fix, late)));
        }
        // Reporting again, perhaps from a replacement for a device taken away while silent (whose grain never says so).
        if (evaluated > 0 && _ownDeviceSilent is { } silentAlert)
            await Notify(new VictimNotice(NoticeLevel.ProtectionRestored, VictimAdvice.Restored, silentAlert, now));
        return new FixOutcome(evaluated, duplicates, stale);
    }

    // The registry replaces a victim's list when bans change: references are resolved again only then.
    private IOffenderGrain[] Offenders()
    {
        var ids = registry.OffendersOf(_id);
        if (!ReferenceEquals(ids, _offenderIds))
        {
            _offenders = [.. ids.Select(GrainFactory.OffenderGrain)];
            _offenderIds = ids;
        }
        return _offenders;
    }

    // Interleaves: an offender grain judging this victim's fix may notify while OnVictimFixes awaits it.
    public Task Notify(VictimNotice notice)
    {
        var last = _state.Notices.LastOrDefault();
        if (last is not null && last.Level == notice.Level && last.AlertId == notice.AlertId) return Task.CompletedTask;
        if (notice is { Level: NoticeLevel.ProtectionDegraded, Message: VictimAdvice.OwnDeviceSilent }) _ownDeviceSilent = notice.AlertId;
        else if (notice.Level == NoticeLevel.ProtectionRestored && notice.AlertId == _ownDeviceSilent) _ownDeviceSilent = null;
        _state.Notices.Add(notice);
        if (_state.Notices.Count > KeepNotices) _state.Notices.RemoveAt(0);
        foreach (var device in registry.DevicesOf(_id)) messenger.Notify(device, notice);
        if (notice.Level is NoticeLevel.Danger or NoticeLevel.Warning)
            foreach (var device in registry.DevicesOf(_id)) messenger.SetInterval(device, _options.NearIntervalSeconds);
        return Task.CompletedTask;
    }

    public Task<VictimNotice[]> GetNotices() => Task.FromResult(_state.Notices.ToArray());
}

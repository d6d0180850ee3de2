using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proximity.Grains.Durability;
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
    /// <summary>Device alerts for which the victim was told protection is degraded and not yet that it is restored
    /// (true: the victim's own device fell silent; false: an offender's).</summary>
    [Id(1)] public Dictionary<string, bool> Degraded { get; set; } = [];
}

/// <summary>
/// A victim: forwards each of the victim's fixes to the offenders the victim is protected from (an offender may
/// have several victims and a victim several offenders), and sends notices to the victim's devices.
/// </summary>
public sealed class VictimGrain(
    [PersistentState("victim", ProximitySilo.StorageName)] IPersistentState<VictimState> state,
    ProximityRegistry registry,
    IDeviceMessenger messenger,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options,
    StorageChoice storage,
    ILogger<VictimGrain> logger) : Grain, IVictimGrain
{
    private const int KeepNotices = 50;
    private readonly ProximityOptions _options = options.Value;
    private readonly ArrivalLateness _lateness = new(options.Value.Decisions.LateAfter);
    private readonly FixGate _gate = new();
    private string _id = "";
    private IReadOnlyList<string>? _offenderIds;
    private IOffenderGrain[] _offenders = [];
    private readonly SemaphoreSlim _saving = new(1, 1);
    private bool _dirty; // notices not yet written

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = GrainKeys.IdOf(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && storage.KeepsStateOn(reason)) await SaveAsync();
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
        // Reporting again, perhaps from a replacement for a device taken away while silent (whose grain never says so):
        // one notice, and what the silent devices' grains may still say is not repeated.
        if (evaluated > 0 && S.Degraded.Count > 0 && S.Degraded.Where(d => d.Value).Select(d => d.Key).ToArray() is [.., var silentAlert] ownSilent)
        {
            foreach (string alertId in ownSilent[..^1]) S.Degraded.Remove(alertId);
            await Notify(new VictimNotice(NoticeLevel.ProtectionRestored, VictimAdvice.Restored, silentAlert, now));
        }
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
    public async Task Notify(VictimNotice notice)
    {
        var last = S.Notices.LastOrDefault();
        if (last is not null && last.Level == notice.Level && last.AlertId == notice.AlertId) return;
        if (notice is { Level: NoticeLevel.ProtectionDegraded, AlertId: { } degradedBy }) S.Degraded[degradedBy] = notice.Message == VictimAdvice.OwnDeviceSilent;
        // Said once per degradation: the device's grain and the person's next fix may both say it is over.
        else if (notice is { Level: NoticeLevel.ProtectionRestored, AlertId: { } restored } && !S.Degraded.Remove(restored)) return;
        S.Notices.Add(notice);
        if (S.Notices.Count > KeepNotices) S.Notices.RemoveAt(0);
        foreach (var device in registry.DevicesOf(_id)) messenger.Notify(device, notice);
        if (notice.Level is NoticeLevel.Danger or NoticeLevel.Warning)
            foreach (var device in registry.DevicesOf(_id)) messenger.SetInterval(device, _options.NearIntervalSeconds);
        // A degradation begun or ended is written at once: a replacement device may report long after its predecessor
        // fell silent, on another node. Other notices (a breach's, on the path its acknowledgement waits for) go with
        // the next write or at deactivation.
        _dirty = true;
        if (notice.Level is NoticeLevel.ProtectionDegraded or NoticeLevel.ProtectionRestored) await SaveAsync();
    }

    // Notices interleave: one write at a time; what changes while it is written is written with the next.
    private async Task SaveAsync()
    {
        await _saving.WaitAsync();
        try
        {
            _dirty = false;
            if (!await state.TryWriteStateAsync(logger, "victim", _id)) _dirty = true;
        }
        finally { _saving.Release(); }
    }

    public Task<VictimNotice[]> GetNotices() => Task.FromResult(S.Notices.ToArray());

    private VictimState S => state.State;
}

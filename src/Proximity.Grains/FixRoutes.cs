using System.Collections.Concurrent;
using Proximity.Grains.Durability;
using Proximity.Grains.Registry;
using Proximity.Spatial.Decisions;

namespace Proximity.Grains;

/// <summary>
/// The path of one device message's fixes: judged by the device's person's grain (the offender's bans, or the
/// victim's grain forwarding to the offenders the victim is protected from), then taken for the position history.
/// The device's grain hears of them one way (health, silence watch): it decides nothing about bans, so the
/// acknowledgement does not wait for it. One awaited grain call per offender fix instead of two was about a third
/// of the service's CPU per fix (docs/architecture.md). Grain references are kept: resolving one per call was a
/// measurable share too.
/// </summary>
public sealed class FixRoutes(IGrainFactory grains, IFixRecorder history, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, IDeviceGrain> _devices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IOffenderGrain> _offenders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IVictimGrain> _victims = new(StringComparer.Ordinal);

    public IDeviceGrain Device(string deviceId) => _devices.GetOrAdd(deviceId, static (id, g) => g.DeviceGrain(id), grains);

    /// <summary>Judges and records the parsed, validated fixes of one message of <paramref name="device"/>, oldest first.</summary>
    public async Task<FixOutcome> OnPositionsAsync(DeviceEntry device, PositionFix[] fixes)
    {
        if (fixes.Length == 0) return FixOutcome.None;
        var receivedAt = time.GetUtcNow();
        _ = Device(device.DeviceId).OnPositions(fixes); // one way: returns at once
        // Recorded once judged: a message whose judging failed (the person's node just died) is recorded when it comes
        // again. Judged even when the history cannot take it (a breach must not wait for the database); the message is
        // then not acknowledged, comes again, is a duplicate for the decisions and is recorded then.
        var outcome = device.Role == PersonRole.Offender
            ? await _offenders.GetOrAdd(device.PersonId, static (id, g) => g.OffenderGrain(id), grains).OnOffenderFixes(fixes)
            : await _victims.GetOrAdd(device.PersonId, static (id, g) => g.VictimGrain(id), grains).OnVictimFixes(fixes);
        int unrecorded = 0;
        foreach (var fix in fixes) if (!history.Record(fix, receivedAt, device.PersonId)) unrecorded++;
        return unrecorded == 0 ? outcome : outcome with { Unrecorded = unrecorded };
    }

    /// <summary>Completes when the fixes recorded so far on this node are in the position history (at once in memory mode).</summary>
    public Task WhenRecordedAsync() => history.WhenWrittenAsync();
}

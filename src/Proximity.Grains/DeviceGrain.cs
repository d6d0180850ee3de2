using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proximity.Grains.Durability;
using Proximity.Grains.Registry;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

[GenerateSerializer]
public sealed class DeviceState
{
    [Id(0)] public long? LastSeq { get; set; }
    /// <summary>Server time of the last accepted message (fix or event).</summary>
    [Id(1)] public DateTimeOffset? LastMessageAt { get; set; }
    /// <summary>Server time of the last message carrying a usable fix.</summary>
    [Id(2)] public DateTimeOffset? LastFixAt { get; set; }
    [Id(3)] public PositionFix? LastFix { get; set; }
    [Id(4)] public int? Battery { get; set; }
    [Id(5)] public bool StrapOpen { get; set; }
    [Id(6)] public bool BodyContactLost { get; set; }
    [Id(7)] public int Messages { get; set; }
    /// <summary>Open device alerts by condition (offline, nofix, strap, contact, battery, sos, jamming).</summary>
    [Id(8)] public Dictionary<string, Alert> Open { get; set; } = [];
    /// <summary>Device time of the <see cref="Battery"/> reading: an older one (from a backlog) does not replace it.</summary>
    [Id(9)] public DateTimeOffset? BatteryAt { get; set; }
    /// <summary>Who carried the device when this state was written: its alerts and last position are about them.</summary>
    [Id(10)] public string? PersonId { get; set; }
}

/// <summary>
/// One device: maps it to its person, keeps its health (sequence, battery, strap and skin contact) and watches
/// its silence: a device quiet for 2 × its reporting interval + 5 s raises DeviceOffline, one that talks without
/// a usable fix for as long raises NoPositionFix. State is written when an alert condition changes, otherwise at most
/// every <see cref="ProximityOptions.StateSaveInterval"/>. It hears of fixes one way (<see cref="FixRoutes"/>): the
/// person's grain judges them.
/// </summary>
public sealed class DeviceGrain(
    [PersistentState("device", ProximitySilo.StorageName)] IPersistentState<DeviceState> state,
    ProximityRegistry registry,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options,
    StorageChoice storage,
    DecisionMetrics metrics,
    DeviceFeed feed,
    ILogger<DeviceGrain> logger) : Grain, IDeviceGrain
{
    private const string Offline = "offline", NoFix = "nofix", Strap = "strap", Contact = "contact", Battery = "battery", Sos = "sos", Jamming = "jamming";
    private readonly ProximityOptions _options = options.Value;
    private readonly ArrivalLateness _lateness = new(options.Value.Decisions.LateAfter);
    // When the battery reading now held arrived live (null: it came in a backlog, or before this activation).
    private DateTimeOffset? _batteryLiveAt;
    private DeviceEntry? _device;
    private DateTimeOffset _watchingSince;
    private IGrainTimer? _silenceTimer;
    private long _lastSaveTicks = Environment.TickCount64;
    private bool _dirty;

    private DeviceState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _watchingSince = time.GetUtcNow();
        if (S.Open.ContainsKey(Offline)) metrics.DeviceOffline(true); // restored: counted on this silo now
        // The registry may have given the device to someone else while no grain was active for it.
        await FollowAssignment(registry.Device(GrainKeys.IdOf(this.GetPrimaryKeyString())), _watchingSince);
        if (_device is not null) StartSilenceWatch();
    }

    public Task Watch() => Task.CompletedTask;

    public async Task RefreshAssignment()
    {
        var current = registry.Device(GrainKeys.IdOf(this.GetPrimaryKeyString()));
        if (current == _device && current?.PersonId == S.PersonId) return;
        var now = time.GetUtcNow();
        await FollowAssignment(current, now);
        if (current is null)
        {
            _silenceTimer?.Dispose();
            _silenceTimer = null;
        }
        else if (_silenceTimer is null)
        {
            _watchingSince = now;
            StartSilenceWatch();
        }
        else _silenceTimer.Change(NextSilenceCheck(now), _options.SilenceCheckPeriod);
        logger.LogInformation("device {Device}: now {Assignment}", GrainKeys.IdOf(this.GetPrimaryKeyString()),
            current is null ? "retired or carried by nobody" : $"carried by {current.Role.ToString().ToLowerInvariant()} {current.PersonId}");
        await SaveIfDue();
    }

    // Alerts about a person who no longer carries the device are cleared, without telling the victims "restored" (the
    // person may have no working device now: the person's next usable fix tells them); the next wearer's strap, skin
    // contact, silence and last position start afresh, so no alert about them carries the previous wearer's position.
    private async Task FollowAssignment(DeviceEntry? current, DateTimeOffset now)
    {
        if (S.PersonId is { } wearer && wearer != current?.PersonId)
        {
            string reason = current is null ? $"the device no longer belongs to {wearer}" : $"the device was given to {current.PersonId}";
            foreach (string condition in S.Open.Keys.ToArray()) await ClearIf(condition, now, reason, tellProtection: false);
            (S.StrapOpen, S.BodyContactLost, S.LastMessageAt, S.LastFixAt, S.LastFix) = (false, false, null, null, null);
            _watchingSince = now;
            _dirty = true;
        }
        S.PersonId = current?.PersonId;
        _device = current;
    }

    private void StartSilenceWatch() =>
        _silenceTimer = this.RegisterGrainTimer(CheckSilence, new GrainTimerCreationOptions(NextSilenceCheck(_watchingSince), _options.SilenceCheckPeriod) { KeepAlive = true });

    public async Task OnPositions(PositionFix[] fixes)
    {
        if (_device is null || fixes.Length == 0) return;
        var now = time.GetUtcNow();
        S.Messages++;
        S.LastMessageAt = now;
        S.LastFixAt = now;
        S.LastSeq = Math.Max(S.LastSeq ?? long.MinValue, fixes.Max(f => f.Seq));
        // A store-and-forward backlog tells the past: it never replaces the newer fix or battery reading, and its
        // readings are history even where the last of them is only a minute old (it must not teach the clock skew).
        bool upload = fixes.Length > 1;
        foreach (var fix in fixes)
        {
            if (S.LastFix is not { } last || fix.Timestamp >= last.Timestamp) S.LastFix = fix;
            if (fix.BatteryPercent is { } bat) NoteBattery(bat, fix.Timestamp, now, live: !upload && !_lateness.IsLate(fix, now));
        }

        await ClearIf(Offline, now, "the device reports again");
        await ClearIf(NoFix, now, "the device has a position fix again");
        await JudgeBattery(now);
        await SaveIfDue();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Open.ContainsKey(Offline)) metrics.DeviceOffline(false); // counted wherever it activates next
        if (_dirty && storage.KeepsStateOn(reason)) await Save();
    }

    // Health (last sequence, last seen) is written at a bounded rate; alert conditions are written when they change.
    // In memory the state lives as long as the silo anyway: it is written only when the grain deactivates.
    private Task SaveIfDue()
    {
        _dirty = true;
        return storage.OutlivesSilo && Environment.TickCount64 - _lastSaveTicks >= _options.StateSaveInterval.TotalMilliseconds ? Save() : Task.CompletedTask;
    }

    private async Task Save()
    {
        if (!await state.TryWriteStateAsync(logger, "device", _device?.DeviceId ?? this.GetPrimaryKeyString())) return;
        _dirty = false;
        _lastSaveTicks = Environment.TickCount64;
    }

    public async Task OnEvent(DeviceEvent deviceEvent)
    {
        var e = deviceEvent;
        if (_device is null) return;
        var now = time.GetUtcNow();
        S.Messages++;
        S.LastMessageAt = now;
        S.LastSeq = Math.Max(S.LastSeq ?? long.MinValue, e.Seq);
        if (e.BatteryPercent is { } bat) NoteBattery(bat, e.Timestamp, now, live: !_lateness.IsLate(_device.DeviceId, e.Timestamp, now));
        await ClearIf(Offline, now, "the device reports again");

        switch (e.Type)
        {
            case DeviceEventType.StrapOpen:
                S.StrapOpen = true;
                await RaiseIf(Strap, AlertType.StrapTamper, e.Timestamp, "the ankle monitor reports its strap opened");
                break;
            case DeviceEventType.StrapClosed:
                S.StrapOpen = false;
                await ClearIf(Strap, now, "strap closed again");
                break;
            case DeviceEventType.BodyContactLost:
                S.BodyContactLost = true;
                await RaiseIf(Contact, AlertType.BodyContactLost, e.Timestamp, "the ankle monitor reports no skin contact");
                break;
            case DeviceEventType.BodyContactRestored:
                S.BodyContactLost = false;
                await ClearIf(Contact, now, "skin contact restored");
                break;
            case DeviceEventType.Sos:
                await RaiseIf(Sos, AlertType.VictimSos, e.Timestamp, "the victim pressed SOS", AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom);
                break;
            case DeviceEventType.JammingDetected:
                await RaiseIf(Jamming, AlertType.SuspectedJamming, e.Timestamp, "the device reports GNSS jamming");
                break;
            case DeviceEventType.LowBattery:
                // Reported before a reading that says the battery is fine (a backlog uploaded late): history, no alert.
                if (S.BatteryAt is { } known && known > e.Timestamp && S.Battery > _options.LowBatteryPercent) break;
                S.Battery ??= _options.LowBatteryPercent;
                await RaiseIf(Battery, AlertType.LowBattery, e.Timestamp, "the device reports low battery");
                break;
            case DeviceEventType.ChargingStarted:
                await ClearIf(Battery, now, "charging");
                break;
            default:
                await JudgeBattery(now);
                break;
        }
        await SaveIfDue();
    }

    public Task<DeviceStatus> GetStatus() => Task.FromResult(new DeviceStatus(
        GrainKeys.IdOf(this.GetPrimaryKeyString()), S.LastSeq, S.LastMessageAt, S.LastFixAt, S.Battery, S.StrapOpen, S.BodyContactLost,
        S.Open.ContainsKey(Offline), S.Open.ContainsKey(NoFix), S.Messages));

    // Each look re-arms the timer for the next limit (SilenceSchedule).
    private async Task CheckSilence(CancellationToken ct)
    {
        if (_device is null) return;
        // While no node hears any device (the broker is down) the silence is the broker's, not this device's.
        if (!feed.Lost) await ReportSilence(time.GetUtcNow());
        _silenceTimer?.Change(NextSilenceCheck(time.GetUtcNow()), _options.SilenceCheckPeriod);
    }

    private async Task ReportSilence(DateTimeOffset now)
    {
        var limit = SilenceLimit();
        if (now - HeardFrom(S.LastMessageAt, now) > limit)
        {
            if (!S.Open.ContainsKey(Offline))
                await RaiseIf(Offline, AlertType.DeviceOffline, now,
                    string.Format(CultureInfo.InvariantCulture, "no message for {0:F0} s (reporting profile allows {1:F0} s)", (now - (S.LastMessageAt ?? _watchingSince)).TotalSeconds, limit.TotalSeconds));
        }
        else if (now - HeardFrom(S.LastFixAt, now) > limit && !S.Open.ContainsKey(NoFix))
        {
            await RaiseIf(NoFix, AlertType.NoPositionFix, now,
                string.Format(CultureInfo.InvariantCulture, "messages arrive but no usable position fix for {0:F0} s", (now - (S.LastFixAt ?? _watchingSince)).TotalSeconds));
        }
    }

    private TimeSpan SilenceLimit() =>
        _options.SilenceLimit(_device!.Role == PersonRole.Offender ? _options.OffenderReportingInterval : _options.VictimReportingInterval);

    private TimeSpan NextSilenceCheck(DateTimeOffset now)
    {
        var limit = SilenceLimit();
        // While nobody hears any device, looked at again soon: the outage may end at any moment.
        if (feed.Lost)
            return SilenceSchedule.NextCheck(now, null, null, limit, _options.SilenceCheckPeriod < FeedLostRecheck ? _options.SilenceCheckPeriod : FeedLostRecheck);
        // An offline device is not also watched for missing fixes: it sends nothing at all.
        if (S.Open.ContainsKey(Offline)) return SilenceSchedule.NextCheck(now, null, null, limit, _options.SilenceCheckPeriod);
        return SilenceSchedule.NextCheck(now, HeardFrom(S.LastMessageAt, now), S.Open.ContainsKey(NoFix) ? null : HeardFrom(S.LastFixAt, now),
            limit, _options.SilenceCheckPeriod);
    }

    private static readonly TimeSpan FeedLostRecheck = TimeSpan.FromSeconds(10);

    // Silence counts from the last message (or since watching began), leaving out a broker outage since then.
    private DateTimeOffset HeardFrom(DateTimeOffset? last, DateTimeOffset now)
    {
        var from = last ?? _watchingSince;
        var heard = from + feed.DeafSince(from);
        return heard < now ? heard : now;
    }

    // Live: arrived as the device's own reports usually do (judged against its usual lag, so a device clock running
    // behind or ahead still counts as live).
    private void NoteBattery(int percent, DateTimeOffset at, DateTimeOffset now, bool live)
    {
        if (S.BatteryAt is { } known && at < known) return;
        S.Battery = percent;
        S.BatteryAt = at;
        _batteryLiveAt = live ? now : null;
    }

    private async Task JudgeBattery(DateTimeOffset now)
    {
        // Only a current reading is judged: a backlog's readings are history (low hours ago says nothing about now).
        if (S.Battery is not { } bat || _batteryLiveAt is not { } liveAt || now - liveAt > _options.Decisions.LateAfter) return;
        if (bat <= _options.CriticalBatteryPercent)
        {
            if (S.Open.TryGetValue(Battery, out var open) && open.Type == AlertType.LowBattery) await ClearIf(Battery, now, "battery critical");
            await RaiseIf(Battery, AlertType.BatteryCritical, now, $"battery at {bat} %");
        }
        else if (bat <= _options.LowBatteryPercent) await RaiseIf(Battery, AlertType.LowBattery, now, $"battery at {bat} %");
        else if (bat > _options.LowBatteryPercent + 5) await ClearIf(Battery, now, $"battery at {bat} %");
    }

    private async Task RaiseIf(string condition, AlertType type, DateTimeOffset at, string summary, AlertRecipients? recipients = null)
    {
        if (S.Open.ContainsKey(condition)) return;
        var device = _device!;
        bool offender = device.Role == PersonRole.Offender;
        var severity = type == AlertType.DeviceOffline && !offender ? AlertSeverity.Warning : AlertTypes.DefaultSeverity(type);
        var alert = new Alert
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"{device.DeviceId}:{type}:{at.UtcDateTime:yyyyMMdd'T'HHmmss.fff'Z'}"),
            Type = type,
            Severity = severity,
            OffenderId = offender ? device.PersonId : "",
            VictimId = offender ? null : device.PersonId,
            DeviceId = device.DeviceId,
            RaisedAt = at,
            DecidedAt = time.GetUtcNow(),
            Recipients = recipients ?? (offender ? registry.RecipientsForOffender(device.PersonId) : registry.RecipientsForVictim(device.PersonId)),
            Evidence = new AlertEvidence
            {
                Rule = "Device",
                Summary = $"{type}: device {device.DeviceId} of {(offender ? "offender" : "victim")} {device.PersonId}: {summary}.",
                Fixes = S.LastFix is { } f
                    ? [new FixEvidence(offender ? "offender" : "victim", f.DeviceId, f.Seq, f.Timestamp, f.Latitude, f.Longitude, f.AccuracyMeters,
                        Math.Round((time.GetUtcNow() - f.Timestamp).TotalSeconds, 3), f.AccuracyMeters, false)]
                    : [],
            },
        };
        S.Open[condition] = alert;
        if (condition == Offline) metrics.DeviceOffline(true);
        await state.WriteStateAsync();
        await GrainFactory.AlertGrain(alert.Id).Raise(alert);
        if (condition is Offline or NoFix) await TellProtection(degraded: true, alert.Id);
    }

    private async Task ClearIf(string condition, DateTimeOffset now, string reason, bool tellProtection = true)
    {
        if (!S.Open.Remove(condition, out var alert)) return;
        if (condition == Offline) metrics.DeviceOffline(false);
        await state.WriteStateAsync();
        await GrainFactory.AlertGrain(alert.Id).Clear(alert with { ClearedAt = now, ClearReason = reason });
        if (tellProtection && condition is Offline or NoFix && !S.Open.ContainsKey(Offline) && !S.Open.ContainsKey(NoFix))
            await TellProtection(degraded: false, alert.Id);
        logger.LogInformation("device {Device}: {Condition} cleared ({Reason})", alert.DeviceId, condition, reason);
    }

    private Task TellProtection(bool degraded, string alertId)
    {
        var device = _device!;
        if (device.Role == PersonRole.Offender) return GrainFactory.OffenderGrain(device.PersonId).OnProtection(degraded, alertId);
        var now = time.GetUtcNow();
        return GrainFactory.VictimGrain(device.PersonId).Notify(degraded
            ? new VictimNotice(NoticeLevel.ProtectionDegraded, VictimAdvice.OwnDeviceSilent, alertId, now)
            : new VictimNotice(NoticeLevel.ProtectionRestored, VictimAdvice.Restored, alertId, now));
    }
}

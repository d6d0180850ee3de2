using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Grains;
using Proximity.Grains.Registry;
using Proximity.Protocol;
using Proximity.Spatial.Decisions;

namespace Proximity.Ingest;

/// <summary>The outcome of one device message: accepted, or rejected with a counted reason.</summary>
public readonly record struct IngestResult(RejectReason? Reason, string? Message, FixOutcome? Fixes = null)
{
    public bool Accepted => Reason is null;

    /// <summary>Accepted and judged, but the position history could not take every fix (its buffer is full while
    /// the database is away): do not acknowledge it, so it comes again (and is then a duplicate for the decisions).</summary>
    public bool MustComeAgain => Fixes is { Unrecorded: > 0 };
}

/// <summary>A device topic: <c>proximity/v1/devices/{id}/position|event</c> or <c>owntracks/{user}/{device}</c>.</summary>
public readonly record struct DeviceTopic(string DeviceId, DeviceTopicKind Kind)
{
    public const string Prefix = "proximity/v1/devices/";
    public const string OwnTracksPrefix = "owntracks/";

    public static DeviceTopic? Parse(string topic)
    {
        if (topic.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var rest = topic.AsSpan(Prefix.Length);
            int slash = rest.IndexOf('/');
            if (slash <= 0) return null;
            var kind = rest[(slash + 1)..] switch
            {
                "position" => DeviceTopicKind.Position,
                "event" => DeviceTopicKind.Event,
                _ => (DeviceTopicKind?)null,
            };
            return kind is { } k ? new DeviceTopic(rest[..slash].ToString(), k) : null;
        }
        if (topic.StartsWith(OwnTracksPrefix, StringComparison.Ordinal))
        {
            var parts = topic.Split('/');
            // owntracks/{user}/{device}: the user is the registered device id (it is also the MQTT username).
            return parts.Length == 3 && parts[1].Length > 0 && parts[2].Length > 0 ? new DeviceTopic(parts[1], DeviceTopicKind.OwnTracks) : null;
        }
        return null;
    }
}

public enum DeviceTopicKind { Position, Event, OwnTracks }

/// <summary>
/// Turns one MQTT message from a device into a grain call: topic, device, payload checked; a bad message is
/// counted by reason and changes nothing. Used by the embedded broker and the external-broker client alike.
/// </summary>
public sealed class IngestRouter(
    FixRoutes routes,
    ProximityRegistry registry,
    IngestMetrics metrics,
    IngestOptionsAccessor options,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time)
{
    /// <param name="clientId">The authenticated sender (embedded broker), or null when an external broker authenticated it.</param>
    public async Task<IngestResult> HandleAsync(string topic, ReadOnlySequence<byte> payload, string? clientId)
    {
        using var activity = ProximityTracing.Source.StartActivity("mqtt message", System.Diagnostics.ActivityKind.Consumer);
        activity?.SetTag("messaging.destination.name", topic);
        var result = await Route(topic, payload, clientId);
        activity?.SetTag("proximity.accepted", result.Accepted);
        if (result.Accepted) metrics.Accepted(result.Fixes?.Evaluated ?? 0);
        else metrics.Rejected(result.Reason!.Value, topic, clientId, result.Message!);
        return result;
    }

    private async Task<IngestResult> Route(string topic, ReadOnlySequence<byte> payload, string? clientId)
    {
        if (DeviceTopic.Parse(topic) is not { } t) return Reject(RejectReason.UnknownTopic, $"'{Shorten(topic)}' is not a device topic");
        if (clientId is not null && clientId != t.DeviceId)
            return Reject(RejectReason.TopicMismatch, $"client {clientId} may not publish for device {t.DeviceId}");
        if (registry.Device(t.DeviceId) is not { } device) return Reject(RejectReason.UnknownDevice, $"device {t.DeviceId} is not registered");
        if (t.Kind == DeviceTopicKind.OwnTracks && device.Role != PersonRole.Victim)
            return Reject(RejectReason.UnknownDevice, $"device {t.DeviceId} is not a victim device; OwnTracks is accepted only from victims");
        if (payload.Length > options.Value.MaxPayloadBytes) return Reject(RejectReason.TooLarge, $"{payload.Length} bytes is more than {options.Value.MaxPayloadBytes}");

        ReadOnlySpan<byte> bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        PositionFix[]? fixes = null;
        DeviceEvent? deviceEvent = null;
        try
        {
            switch (t.Kind)
            {
                case DeviceTopicKind.Position:
                    // The registry's id, not the topic's copy: fixes are kept in long-lived tracks, and a fresh
                    // string in each would keep young objects reachable from old ones (slower collections).
                    fixes = FixJson.ParsePayload(bytes, device.DeviceId);
                    break;
                case DeviceTopicKind.OwnTracks:
                    fixes = [OwnTracksJson.ParsePayload(bytes, device.DeviceId)];
                    break;
                default:
                    var e = EventJson.ParsePayload(bytes);
                    deviceEvent = new DeviceEvent(e.Seq, e.Timestamp, e.Type, e.BatteryPercent);
                    break;
            }
        }
        catch (MessageRejectedException x)
        {
            return Reject(x.Reason, x.Message);
        }
        var maxAhead = options.Value.MaxClockAhead;
        if (fixes is not null && FirstAhead(fixes, time.GetUtcNow() + maxAhead) is { } ahead)
            return Reject(RejectReason.OutOfRange, string.Create(CultureInfo.InvariantCulture,
                $"fix seq {ahead.Seq} is stamped {ahead.Timestamp:O}, more than {maxAhead} ahead of the server's clock (Proximity:Ingest:MaxClockAhead)"));

        if (fixes is not null)
        {
            if (HasNoFix(fixes)) fixes = await HeardWithoutFix(device, fixes);
            return new IngestResult(null, null, fixes.Length > 0 ? await routes.OnPositionsAsync(device, fixes) : FixOutcome.None);
        }
        await routes.Device(device.DeviceId).OnEvent(deviceEvent!);
        return new IngestResult(null, null);
    }

    // A report without a fix ("src":"none") tells only that the device is alive and where its battery stands: its grain
    // hears it as a heartbeat (towards NoPositionFix, not DeviceOffline). Returns the usable fixes.
    private async Task<PositionFix[]> HeardWithoutFix(DeviceEntry device, PositionFix[] fixes)
    {
        foreach (var f in fixes)
            if (f.Source == FixSource.None)
                await routes.Device(device.DeviceId).OnEvent(new DeviceEvent(f.Seq, f.Timestamp, DeviceEventType.Heartbeat, f.BatteryPercent));
        return [.. fixes.Where(f => f.Source != FixSource.None)];
    }

    private static bool HasNoFix(PositionFix[] fixes)
    {
        foreach (var fix in fixes) if (fix.Source == FixSource.None) return true;
        return false;
    }

    /// <summary>Completes when the fixes judged so far on this node are in the position history (at once in memory mode).</summary>
    public Task WhenRecordedAsync() => routes.WhenRecordedAsync();

    private static PositionFix? FirstAhead(PositionFix[] fixes, DateTimeOffset latest)
    {
        foreach (var fix in fixes) if (fix.Timestamp > latest) return fix;
        return null;
    }

    private static IngestResult Reject(RejectReason reason, string message) => new(reason, message);

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "…";
}

/// <summary>The ingest options as a plain service (keeps the router free of IOptions plumbing in tests).</summary>
public sealed record IngestOptionsAccessor(IngestOptions Value);

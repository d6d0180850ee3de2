using System.Text.Json;

namespace Proximity.Protocol;

/// <summary>What a device reports besides positions (device protocol, <c>.../event</c>).</summary>
public enum DeviceEventType
{
    StrapOpen,
    StrapClosed,
    BodyContactLost,
    BodyContactRestored,
    ChargingStarted,
    ChargingStopped,
    LowBattery,
    PowerOn,
    PowerOff,
    Sos,
    JammingDetected,
    Heartbeat,
}

/// <summary>One parsed device event.</summary>
public readonly record struct DeviceEventMessage(long Seq, DateTimeOffset Timestamp, DeviceEventType Type, int? BatteryPercent);

/// <summary>The device protocol's event object: <c>{"seq","ts","type","bat"}</c>.</summary>
public static class EventJson
{
    public static DeviceEventType? ParseType(string? wire) => wire switch
    {
        "strap_open" => DeviceEventType.StrapOpen,
        "strap_closed" => DeviceEventType.StrapClosed,
        "body_contact_lost" => DeviceEventType.BodyContactLost,
        "body_contact_restored" => DeviceEventType.BodyContactRestored,
        "charging_started" => DeviceEventType.ChargingStarted,
        "charging_stopped" => DeviceEventType.ChargingStopped,
        "low_battery" => DeviceEventType.LowBattery,
        "power_on" => DeviceEventType.PowerOn,
        "power_off" => DeviceEventType.PowerOff,
        "sos" => DeviceEventType.Sos,
        "jamming_detected" => DeviceEventType.JammingDetected,
        "heartbeat" => DeviceEventType.Heartbeat,
        _ => null,
    };

    public static DeviceEventMessage ParsePayload(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 8 });
            using var doc = JsonDocument.ParseValue(ref reader);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw FixJson.Reject(RejectReason.InvalidValue, "an event must be a JSON object");
            if (!o.TryGetProperty("seq", out var s) || s.ValueKind == JsonValueKind.Null) throw FixJson.Reject(RejectReason.MissingField, "missing \"seq\"");
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long seq)) throw FixJson.Reject(RejectReason.InvalidValue, "\"seq\" must be a whole number");
            if (seq < 0) throw FixJson.Reject(RejectReason.OutOfRange, $"seq {seq} is negative");
            if (!o.TryGetProperty("ts", out var t) || t.ValueKind == JsonValueKind.Null) throw FixJson.Reject(RejectReason.MissingField, "missing \"ts\"");
            var ts = FixJson.Timestamp(t, "ts");
            if (!o.TryGetProperty("type", out var ty) || ty.ValueKind == JsonValueKind.Null) throw FixJson.Reject(RejectReason.MissingField, "missing \"type\"");
            if (ty.ValueKind != JsonValueKind.String) throw FixJson.Reject(RejectReason.InvalidValue, "\"type\" must be a string");
            var type = ParseType(ty.GetString()) ?? throw FixJson.Reject(RejectReason.UnknownEventType, $"unknown event type '{ty.GetString()}'");
            int? bat = null;
            if (o.TryGetProperty("bat", out var b) && b.ValueKind != JsonValueKind.Null)
            {
                if (b.ValueKind != JsonValueKind.Number || !b.TryGetDouble(out double d) || !double.IsFinite(d))
                    throw FixJson.Reject(RejectReason.InvalidValue, "\"bat\" must be a number");
                if (d is < 0 or > 100) throw FixJson.Reject(RejectReason.OutOfRange, $"battery {d} is outside 0..100");
                bat = (int)Math.Round(d);
            }
            return new DeviceEventMessage(seq, ts, type, bat);
        }
        catch (JsonException e)
        {
            throw FixJson.Reject(RejectReason.InvalidJson, $"not valid JSON: {e.Message}");
        }
    }
}

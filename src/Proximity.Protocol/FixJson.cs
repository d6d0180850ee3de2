using System.Globalization;
using System.Text.Json;
using Proximity.Spatial.Decisions;

namespace Proximity.Protocol;

/// <summary>Why a device message was refused. Every refusal is counted by reason.</summary>
public enum RejectReason
{
    InvalidJson,
    MissingField,
    InvalidValue,
    OutOfRange,
    UnknownDevice,
    InactiveDevice,
    TopicMismatch,
    UnknownTopic,
    UnknownEventType,
    TooLarge,
}

public sealed class MessageRejectedException(RejectReason reason, string message) : Exception(message)
{
    public RejectReason Reason { get; } = reason;
}

/// <summary>The device protocol's fix object: <c>{"seq","ts","lat","lon","acc","spd","hdg","bat","src"}</c>.</summary>
public static class FixJson
{
    public const int MaxBatch = 10_000;

    /// <summary>A fix stamped further ahead of its receiver's clock than this is refused by default: believed, it would
    /// make every later fix of the person look older than it (the live node's <c>Proximity:Ingest:MaxClockAhead</c>,
    /// replay against a recorded receive time).</summary>
    public static readonly TimeSpan DefaultMaxClockAhead = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Parses one fix; the device id comes from the topic (or, in replay files, a "device" field). A report without a
    /// fix (<c>"src":"none"</c>) comes back with <see cref="FixSource.None"/>: the device was heard, but what it sends as
    /// coordinates is no position (never judged or stored; <see cref="PositionFix.Problem"/> says so).
    /// </summary>
    public static PositionFix Parse(JsonElement o, string? deviceId)
    {
        if (o.ValueKind != JsonValueKind.Object) throw Reject(RejectReason.InvalidValue, "a fix must be a JSON object");
        deviceId ??= o.TryGetProperty("device", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (string.IsNullOrWhiteSpace(deviceId)) throw Reject(RejectReason.MissingField, "missing \"device\"");
        long seq = RequiredLong(o, "seq");
        var ts = Timestamp(Required(o, "ts"), "ts");
        if (seq < 0) throw Reject(RejectReason.OutOfRange, $"seq {seq} is negative");
        int? battery = OptionalNumber(o, "bat") is { } level ? (int)Math.Round(level) : null;
        var source = Source(o);
        if (source == FixSource.None)
        {
            if (battery is < 0 or > 100) throw Reject(RejectReason.OutOfRange, $"battery {battery} is outside 0..100");
            return new PositionFix(deviceId, seq, ts, 0, 0, PositionFix.MaxAccuracyMeters, null, null, battery, FixSource.None);
        }
        double lat = RequiredNumber(o, "lat");
        double lon = RequiredNumber(o, "lon");
        double acc = RequiredNumber(o, "acc");
        var fix = new PositionFix(deviceId, seq, ts, lat, lon, acc, OptionalNumber(o, "spd"), OptionalNumber(o, "hdg"), battery, source);
        if (fix.Problem() is { } problem) throw Reject(RejectReason.OutOfRange, problem);
        return fix;
    }

    /// <summary>A position payload: one fix or an array of fixes (store-and-forward, oldest first).</summary>
    public static PositionFix[] ParsePayload(ReadOnlySpan<byte> payload, string deviceId)
    {
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 8 });
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                if (root.GetArrayLength() == 0) throw Reject(RejectReason.MissingField, "empty fix array");
                if (root.GetArrayLength() > MaxBatch) throw Reject(RejectReason.TooLarge, $"more than {MaxBatch} fixes in one message");
                var fixes = new PositionFix[root.GetArrayLength()];
                int i = 0;
                foreach (var e in root.EnumerateArray()) fixes[i++] = Parse(e, deviceId);
                // Stable, like the order devices send: equal times keep their order.
                return [.. fixes.OrderBy(f => f.Timestamp)];
            }
            return [Parse(root, deviceId)];
        }
        catch (JsonException e)
        {
            throw Reject(RejectReason.InvalidJson, $"not valid JSON: {e.Message}");
        }
    }

    public static DateTimeOffset Timestamp(JsonElement e, string name)
    {
        if (e.ValueKind != JsonValueKind.String ||
            !DateTimeOffset.TryParse(e.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var ts))
            throw Reject(RejectReason.InvalidValue, $"\"{name}\" must be an ISO 8601 UTC time");
        if (ts.Year < 2000 || ts.Year > 2200) throw Reject(RejectReason.OutOfRange, $"\"{name}\" {ts:O} is not a plausible time");
        return ts;
    }

    internal static MessageRejectedException Reject(RejectReason reason, string message) => new(reason, message);

    private static JsonElement Required(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : throw Reject(RejectReason.MissingField, $"missing \"{name}\"");

    private static double RequiredNumber(JsonElement o, string name)
    {
        var v = Required(o, name);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d))
            throw Reject(RejectReason.InvalidValue, $"\"{name}\" must be a number");
        if (!double.IsFinite(d)) throw Reject(RejectReason.OutOfRange, $"\"{name}\" must be finite");
        return d;
    }

    private static long RequiredLong(JsonElement o, string name)
    {
        var v = Required(o, name);
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l))
            throw Reject(RejectReason.InvalidValue, $"\"{name}\" must be a whole number");
        return l;
    }

    private static double? OptionalNumber(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw Reject(RejectReason.InvalidValue, $"\"{name}\" must be a number");
        double d = v.GetDouble();
        return double.IsFinite(d) ? d : throw Reject(RejectReason.OutOfRange, $"\"{name}\" must be finite");
    }

    private static FixSource Source(JsonElement o)
    {
        if (!o.TryGetProperty("src", out var v) || v.ValueKind == JsonValueKind.Null) return FixSource.Gps;
        return v.GetString() switch
        {
            "gps" => FixSource.Gps,
            "wifi" => FixSource.Wifi,
            "cell" => FixSource.Cell,
            "none" => FixSource.None,
            var s => throw Reject(RejectReason.InvalidValue, $"\"src\" '{s}' is not one of gps, wifi, cell, none"),
        };
    }
}

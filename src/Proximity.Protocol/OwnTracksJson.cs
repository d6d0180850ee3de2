using System.Text.Json;
using Proximity.Spatial.Decisions;

namespace Proximity.Protocol;

/// <summary>
/// OwnTracks location messages (<c>owntracks/{user}/{device}</c>), so a stock phone app can serve as a victim
/// device: <c>{"_type":"location","lat","lon","acc","tst","batt","vel","cog"}</c>. OwnTracks has no sequence
/// number; <c>tst</c> (Unix seconds) serves as one, which also drops the app's repeated sends.
/// </summary>
public static class OwnTracksJson
{
    public static PositionFix ParsePayload(ReadOnlySpan<byte> payload, string deviceId)
    {
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 8 });
            using var doc = JsonDocument.ParseValue(ref reader);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw FixJson.Reject(RejectReason.InvalidValue, "an OwnTracks message must be a JSON object");
            if (!o.TryGetProperty("_type", out var type) || type.ValueKind != JsonValueKind.String)
                throw FixJson.Reject(RejectReason.MissingField, "missing \"_type\"");
            if (type.GetString() != "location")
                throw FixJson.Reject(RejectReason.UnknownEventType, $"OwnTracks message type '{type.GetString()}' is not used");
            long tst = Long(o, "tst");
            if (tst is < 946_684_800 or > 7_258_118_400) throw FixJson.Reject(RejectReason.OutOfRange, $"tst {tst} is not a plausible time");
            double lat = Number(o, "lat") ?? throw FixJson.Reject(RejectReason.MissingField, "missing \"lat\"");
            double lon = Number(o, "lon") ?? throw FixJson.Reject(RejectReason.MissingField, "missing \"lon\"");
            double acc = Number(o, "acc") ?? throw FixJson.Reject(RejectReason.MissingField, "missing \"acc\"");
            double? vel = Number(o, "vel");
            double? batt = Number(o, "batt");
            var fix = new PositionFix(deviceId, tst, DateTimeOffset.FromUnixTimeSeconds(tst), lat, lon, acc,
                vel is { } kmh ? kmh / 3.6 : null, Number(o, "cog"), batt is { } b ? (int)Math.Round(b) : null, FixSource.Gps);
            if (fix.Problem() is { } problem) throw FixJson.Reject(RejectReason.OutOfRange, problem);
            return fix;
        }
        catch (JsonException e)
        {
            throw FixJson.Reject(RejectReason.InvalidJson, $"not valid JSON: {e.Message}");
        }
    }

    private static long Long(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) throw FixJson.Reject(RejectReason.MissingField, $"missing \"{name}\"");
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l)) throw FixJson.Reject(RejectReason.InvalidValue, $"\"{name}\" must be a whole number");
        return l;
    }

    private static double? Number(JsonElement o, string name)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d)) throw FixJson.Reject(RejectReason.InvalidValue, $"\"{name}\" must be a number");
        return double.IsFinite(d) ? d : throw FixJson.Reject(RejectReason.OutOfRange, $"\"{name}\" must be finite");
    }
}

using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Proximity.Simulator.Devices;

/// <summary>The device protocol's topics.</summary>
public static class Topics
{
    public const string Prefix = "proximity/v1/devices/";
    public const string Alerts = "proximity/v1/alerts/#";

    public static string Position(string deviceId) => $"{Prefix}{deviceId}/position";
    public static string Event(string deviceId) => $"{Prefix}{deviceId}/event";
    public static string Command(string deviceId) => $"{Prefix}{deviceId}/command";
    public static string Notify(string deviceId) => $"{Prefix}{deviceId}/notify";
}

/// <summary>One fix as the device records it (device time, measured position).</summary>
public readonly record struct FixRecord(
    long Seq, DateTimeOffset Timestamp, double Latitude, double Longitude, double AccuracyMeters,
    double? SpeedMetersPerSecond, double? HeadingDegrees, int BatteryPercent, string Source);

/// <summary>One device event (strap_open, sos, heartbeat, ...).</summary>
public readonly record struct EventRecord(long Seq, DateTimeOffset Timestamp, string Type, int BatteryPercent);

/// <summary>Something recorded by a device and not yet sent: a fix or an event.</summary>
public readonly record struct Recorded(FixRecord? Fix, EventRecord? Event)
{
    public long Seq => Fix?.Seq ?? Event!.Value.Seq;
}

public enum MessageKind { Position, Event }

/// <summary>One MQTT publish of a device.</summary>
public sealed record DeviceMessage(string Topic, byte[] Payload, MessageKind Kind, int FixCount, long FirstSeq, long LastSeq);

/// <summary>Writes the device protocol's JSON.</summary>
public static class DevicePayload
{
    public static DeviceMessage Position(string deviceId, FixRecord fix) =>
        new(Topics.Position(deviceId), Write(w => WriteFix(w, fix)), MessageKind.Position, 1, fix.Seq, fix.Seq);

    /// <summary>A store-and-forward batch: an array of fixes, oldest first.</summary>
    public static DeviceMessage Batch(string deviceId, IReadOnlyList<FixRecord> fixes) =>
        new(Topics.Position(deviceId), Write(w =>
        {
            w.WriteStartArray();
            foreach (var f in fixes) WriteFix(w, f);
            w.WriteEndArray();
        }), MessageKind.Position, fixes.Count, fixes[0].Seq, fixes[^1].Seq);

    public static DeviceMessage Event(string deviceId, EventRecord e) =>
        new(Topics.Event(deviceId), Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("seq", e.Seq);
            w.WriteString("ts", Time(e.Timestamp));
            w.WriteString("type", e.Type);
            w.WriteNumber("bat", e.BatteryPercent);
            w.WriteEndObject();
        }), MessageKind.Event, 0, e.Seq, e.Seq);

    public static void WriteFix(Utf8JsonWriter w, in FixRecord f)
    {
        w.WriteStartObject();
        w.WriteNumber("seq", f.Seq);
        w.WriteString("ts", Time(f.Timestamp));
        w.WriteNumber("lat", Math.Round(f.Latitude, 7));
        w.WriteNumber("lon", Math.Round(f.Longitude, 7));
        w.WriteNumber("acc", Math.Round(f.AccuracyMeters, 1));
        if (f.SpeedMetersPerSecond is { } s) w.WriteNumber("spd", Math.Round(s, 2));
        if (f.HeadingDegrees is { } h) w.WriteNumber("hdg", Math.Round(h));
        w.WriteNumber("bat", f.BatteryPercent);
        w.WriteString("src", f.Source);
        w.WriteEndObject();
    }

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer)) body(w);
        return buffer.WrittenSpan.ToArray();
    }
}

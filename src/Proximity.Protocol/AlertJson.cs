using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Proximity.Spatial.Monitoring;

namespace Proximity.Protocol;

/// <summary>The one JSON shape of an alert: replay output, the MQTT alerts topic, webhooks and the API.</summary>
public static class AlertJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static string Serialize(Alert alert) => JsonSerializer.Serialize(alert, Options);

    public static byte[] SerializeToUtf8(Alert alert) => JsonSerializer.SerializeToUtf8Bytes(alert, Options);

    public static Alert? Deserialize(string json) => JsonSerializer.Deserialize<Alert>(json, Options);

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.Converters.Add(new JsonStringEnumConverter());
        o.Converters.Add(new UtcTimeConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>Times always as UTC with milliseconds and a Z, so output is stable and sortable.</summary>
    public sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }
}

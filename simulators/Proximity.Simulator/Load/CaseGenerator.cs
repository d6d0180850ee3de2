using System.Text.Json;

namespace Proximity.Simulator.Load;

/// <summary>Writes the case file that matches a load run: people, devices with secrets, bans, and the alerts integration.</summary>
public static class CaseGenerator
{
    public static void Write(Stream output, LoadLayout layout, int devices)
    {
        if (devices < 1) throw new ArgumentOutOfRangeException(nameof(devices), "at least one device");
        int offenders = (devices + 1) / 2, victims = devices / 2;
        int pairs = offenders;
        var plane = layout.Plane;
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = devices <= 100 });
        w.WriteStartObject();

        w.WriteStartArray("offenders");
        for (int k = 0; k < offenders; k++) Person(w, LoadLayout.OffenderId(k), LoadLayout.OffenderDeviceId(k), layout);
        w.WriteEndArray();

        w.WriteStartArray("victims");
        for (int k = 0; k < victims; k++) Person(w, LoadLayout.VictimId(k), LoadLayout.VictimDeviceId(k), layout);
        w.WriteEndArray();

        w.WriteStartArray("bans");
        for (int k = 0; k < offenders; k++)
        {
            var centre = plane.Unproject(layout.ZoneCenter(k, pairs));
            w.WriteStartObject();
            w.WriteString("id", $"ban-z-{k:D6}");
            w.WriteString("type", "exclusion");
            w.WriteString("offenderId", LoadLayout.OffenderId(k));
            w.WriteStartObject("area");
            w.WriteString("type", "Circle");
            w.WriteStartArray("center");
            w.WriteNumberValue(Math.Round(centre.Longitude, 7));
            w.WriteNumberValue(Math.Round(centre.Latitude, 7));
            w.WriteEndArray();
            w.WriteNumber("radiusMeters", layout.ZoneRadiusMeters);
            w.WriteEndObject();
            w.WriteEndObject();
            if (k >= victims) continue;
            w.WriteStartObject();
            w.WriteString("id", $"ban-c-{k:D6}");
            w.WriteString("type", "contact");
            w.WriteString("offenderId", LoadLayout.OffenderId(k));
            w.WriteString("victimId", LoadLayout.VictimId(k));
            w.WriteNumber("minDistanceMeters", layout.ContactMinDistanceMeters);
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartArray("integrations");
        w.WriteStartObject();
        w.WriteString("id", layout.IntegrationId);
        w.WriteString("secret", layout.Secret(layout.IntegrationId));
        w.WriteEndObject();
        w.WriteEndArray();

        // The simulator's own key: how load mode moves these devices (ignored by the server).
        w.WriteStartObject("simulation");
        w.WriteStartObject("load");
        w.WriteNumber("seed", layout.Seed);
        w.WriteNumber("centerLatitude", layout.CenterLatitude);
        w.WriteNumber("centerLongitude", layout.CenterLongitude);
        w.WriteNumber("breachFraction", layout.BreachFraction);
        w.WriteNumber("zoneRadiusMeters", layout.ZoneRadiusMeters);
        w.WriteNumber("spacingMeters", layout.SpacingMeters);
        w.WriteNumber("contactMinDistanceMeters", layout.ContactMinDistanceMeters);
        w.WriteNumber("speedMetersPerSecond", layout.SpeedMetersPerSecond);
        w.WriteString("integrationId", layout.IntegrationId);
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteEndObject();
    }

    private static void Person(Utf8JsonWriter w, string personId, string deviceId, LoadLayout layout)
    {
        w.WriteStartObject();
        w.WriteString("id", personId);
        w.WriteStartArray("devices");
        w.WriteStartObject();
        w.WriteString("id", deviceId);
        w.WriteString("secret", layout.Secret(deviceId));
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }
}

namespace Proximity.Simulator.Devices;

/// <summary>
/// One scripted happening at a time offset from the start of the scenario. Device protocol event types
/// (strap_open, sos, ...) are sent as they are; the others change the device or its surroundings.
/// </summary>
public sealed record ScriptedEvent(double AtSeconds, string Type, double? DurationSeconds = null, double? Value = null)
{
    /// <summary>Event types of the device protocol, sent as an event message.</summary>
    public static readonly IReadOnlySet<string> ProtocolTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "strap_open", "strap_closed", "body_contact_lost", "body_contact_restored", "charging_started",
        "charging_stopped", "low_battery", "power_on", "power_off", "sos", "jamming_detected", "heartbeat",
    };

    /// <summary>Simulation types: what they change, and whether they need a value.</summary>
    public static readonly IReadOnlyDictionary<string, string> SimulationTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["strap_tamper"] = "strap_open now, strap_closed after duration (if given)",
        ["indoor"] = "no GPS fix (Wi-Fi/cell fallback or heartbeats) for duration",
        ["urban_canyon"] = "larger GPS error and more multipath for duration",
        ["coverage_gap"] = "no uplink for duration; fixes are stored and uploaded as arrays afterwards",
        ["silent"] = "the device sends nothing at all for duration (or for the rest of the run)",
        ["shutdown"] = "power_off now, power_on after duration (if given)",
        ["charge"] = "charging_started now, charging_stopped after duration",
        ["clock_step"] = "the device clock jumps by value seconds",
        ["multipath"] = "a multipath jump of the GPS position now",
        ["set_interval"] = "reporting interval becomes value seconds",
        ["duplicate"] = "the next message is sent twice",
    };

    public string? Problem()
    {
        if (!double.IsFinite(AtSeconds) || AtSeconds < 0) return $"event '{Type}': \"at\" must be a non-negative number of seconds";
        if (DurationSeconds is { } d && !(d > 0)) return $"event '{Type}': duration must be positive";
        if (!ProtocolTypes.Contains(Type) && !SimulationTypes.ContainsKey(Type))
            return $"unknown event type '{Type}' (protocol: {string.Join(", ", ProtocolTypes)}; simulation: {string.Join(", ", SimulationTypes.Keys)})";
        if (Type is "clock_step" or "set_interval" && Value is null) return $"event '{Type}' needs a \"value\"";
        if (Type == "set_interval" && Value is not (>= 1 and <= 86_400)) return "set_interval value must be within 1..86400 seconds";
        if (Type == "charge" && DurationSeconds is null) return "event 'charge' needs a duration";
        return null;
    }
}

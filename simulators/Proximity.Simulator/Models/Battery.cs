namespace Proximity.Simulator.Models;

public sealed record BatteryOptions
{
    public double StartPercent { get; init; } = 90;
    /// <summary>Drain with the radio idle and the receiver duty-cycled.</summary>
    public double IdleDrainPercentPerHour { get; init; } = 1.0;
    /// <summary>Extra drain per fix taken and sent (GNSS acquisition plus an uplink burst).</summary>
    public double PercentPerFix { get; init; } = 0.004;
    public double ChargePercentPerHour { get; init; } = 50;
    public double LowBatteryPercent { get; init; } = 15;

    public string? Problem() =>
        StartPercent is < 0 or > 100 ? "battery.startPercent must be within 0..100"
        : IdleDrainPercentPerHour < 0 || PercentPerFix < 0 || ChargePercentPerHour < 0 ? "battery rates must not be negative"
        : null;
}

public enum BatteryEvent { None, LowBattery, Empty, Full }

/// <summary>Battery level under drain and charging; reports the crossings a device announces.</summary>
public sealed class Battery(BatteryOptions options)
{
    private bool _lowAnnounced;

    public double Percent { get; private set; } = options.StartPercent;
    public bool Charging { get; private set; }
    public bool Empty => Percent <= 0;

    public void StartCharging() => Charging = true;
    public void StopCharging() => Charging = false;

    public BatteryEvent Advance(double seconds)
    {
        double before = Percent;
        double rate = Charging ? options.ChargePercentPerHour : -options.IdleDrainPercentPerHour;
        Percent = Math.Clamp(Percent + rate * seconds / 3600, 0, 100);
        return Crossing(before);
    }

    public BatteryEvent OnFixSent()
    {
        double before = Percent;
        if (!Charging) Percent = Math.Max(0, Percent - options.PercentPerFix);
        return Crossing(before);
    }

    private BatteryEvent Crossing(double before)
    {
        if (Percent > options.LowBatteryPercent + 5) _lowAnnounced = false;
        if (before > 0 && Percent <= 0) return BatteryEvent.Empty;
        if (!_lowAnnounced && Percent <= options.LowBatteryPercent && before > options.LowBatteryPercent)
        {
            _lowAnnounced = true;
            return BatteryEvent.LowBattery;
        }
        if (before < 100 && Percent >= 100) return BatteryEvent.Full;
        return BatteryEvent.None;
    }
}

using Proximity.Spatial.Decisions;

namespace Proximity.Grains;

/// <summary>Live monitoring settings (configuration section <c>Proximity</c>).</summary>
public sealed class ProximityOptions
{
    public const string Section = "Proximity";

    /// <summary>The reporting profile of ankle monitors: silent for 2 × this + 5 s means offline.</summary>
    public TimeSpan OffenderReportingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The reporting profile of victim devices.</summary>
    public TimeSpan VictimReportingInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest a device grain waits between looks at its silence. It wakes when the silence limit is
    /// reached anyway; this bound only matters when the clock jumps.</summary>
    public TimeSpan SilenceCheckPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A node's word on whether it hears its devices counts this long (it repeats it every 2 s): a node that
    /// died no longer counts towards the device feed.</summary>
    public TimeSpan DeviceFeedLease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>An unacknowledged Critical alert is escalated (the police control room added) after this.</summary>
    public TimeSpan EscalateCriticalAfter { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan EscalationCheckPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often offender grains let bans go out of force (schedules, validity) without a new fix.</summary>
    public TimeSpan ClockPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reporting interval commanded near a zone or the victim, and far from them (battery).</summary>
    public int NearIntervalSeconds { get; set; } = 5;

    public int FarIntervalSeconds { get; set; } = 30;

    /// <summary>Grain state (offender decision state, device health) is written at most this often unless an alert
    /// condition changed, which is written at once.</summary>
    public TimeSpan StateSaveInterval { get; set; } = TimeSpan.FromSeconds(10);

    public int LowBatteryPercent { get; set; } = 20;

    public int CriticalBatteryPercent { get; set; } = 5;

    /// <summary>PBKDF2 iterations for device and integration secrets.</summary>
    public int SecretHashIterations { get; set; } = Registry.SecretHash.DefaultIterations;

    public DecisionOptions Decisions { get; set; } = DecisionOptions.Default;

    /// <summary>Silence after which a device is reported: 2 × interval + 5 s, less a margin for the timer and the
    /// report's own write and publish, so the report is never later than promised.</summary>
    public TimeSpan SilenceLimit(TimeSpan interval) => 2 * interval + TimeSpan.FromSeconds(5) - SilenceReportMargin;

    private static readonly TimeSpan SilenceReportMargin = TimeSpan.FromMilliseconds(500);
}

namespace Proximity.Api.Monitoring;

public enum DeviceFeedCondition
{
    /// <summary>This node does not know: it runs no live pipeline, or has not heard the cluster's word lately.</summary>
    Unknown,
    Heard,
    /// <summary>No node hears any device (every broker connection down): no breach, SOS or silence can be detected.</summary>
    Lost,
}

/// <summary>
/// Whether monitoring works at all, for the control rooms: while the device feed is lost nothing a device does
/// reaches the decisions, and each device's silence is deliberately not reported (it would be every device at
/// once), so the operators must be told in its place. <paramref name="LostSince"/> and <paramref name="HeardAgainAt"/>
/// describe the current or the last outage.
/// </summary>
public sealed record MonitoringStatus(DeviceFeedCondition DeviceFeed, DateTimeOffset? LostSince, DateTimeOffset? HeardAgainAt)
{
    public static MonitoringStatus Unknown { get; } = new(DeviceFeedCondition.Unknown, null, null);
}

/// <summary>Where the API reads whether the live pipeline hears its devices.</summary>
public interface IMonitoringStatus
{
    MonitoringStatus Current { get; }
}

/// <summary>A node that serves the API without the live pipeline does not know whether devices are heard.</summary>
public sealed class UnknownMonitoringStatus : IMonitoringStatus
{
    public MonitoringStatus Current => MonitoringStatus.Unknown;
}

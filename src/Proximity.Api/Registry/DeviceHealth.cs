using Proximity.Api.Problems;

namespace Proximity.Api.Registry;

/// <summary>
/// How a device is doing as the live pipeline sees it: when it last reported, battery, strap and skin contact,
/// whether it is reported offline or without a fix. No position.
/// </summary>
public sealed record DeviceHealth(
    string DeviceId,
    long? LastSeq,
    DateTimeOffset? LastMessageAt,
    DateTimeOffset? LastFixAt,
    int? BatteryPercent,
    bool StrapOpen,
    bool BodyContactLost,
    bool Offline,
    bool NoFix,
    int Messages);

/// <summary>Where the API reads device health: the live pipeline's device grains, on a node that runs them.</summary>
public interface IDeviceHealth
{
    Task<DeviceHealth> HealthAsync(string deviceId);
}

/// <summary>A node that serves the API without the live pipeline knows no device health.</summary>
public sealed class NoDeviceHealth : IDeviceHealth
{
    public Task<DeviceHealth> HealthAsync(string deviceId) =>
        throw ApiProblemException.Unavailable("device health is kept by the live pipeline, which this node does not run.");
}

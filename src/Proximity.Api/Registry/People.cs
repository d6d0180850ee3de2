using System.Text.Json.Serialization;

namespace Proximity.Api.Registry;

/// <summary>A fixed place of a person (home, work); used for feasibility checks, never shown to street police.</summary>
public sealed record Place(double Latitude, double Longitude, string? Label = null);

public sealed record Offender
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>User name of the probation officer whose caseload holds this offender.</summary>
    public string? CaseOfficer { get; init; }
    public Place? Home { get; init; }
    public Place? Work { get; init; }
    public int Version { get; init; } = 1;
}

public sealed record Victim
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public Place? Home { get; init; }
    public Place? Work { get; init; }
    public int Version { get; init; } = 1;
}

[JsonConverter(typeof(JsonStringEnumConverter<DeviceKind>))]
public enum DeviceKind { AnkleMonitor, VictimDevice }

[JsonConverter(typeof(JsonStringEnumConverter<DeviceStatus>))]
public enum DeviceStatus { Active, Retired }

/// <summary>A device as the API shows it; its secret is only ever returned once, when set.</summary>
public sealed record Device
{
    public required string Id { get; init; }
    public required DeviceKind Kind { get; init; }
    public string? PersonId { get; init; }
    public DeviceStatus Status { get; init; } = DeviceStatus.Active;
    public required DateTimeOffset RegisteredAt { get; init; }
    public required DateTimeOffset SecretSetAt { get; init; }
    public DateTimeOffset? RetiredAt { get; init; }
}

/// <summary>A device together with a freshly generated secret (register, rotate).</summary>
public sealed record DeviceWithSecret(Device Device, string Secret);

/// <summary>
/// A device as a change left it (registered, assigned, re-keyed, retired). <paramref name="NewSecret"/> is set when
/// the change set the secret, so that this node's broker can check it; it is never stored or logged.
/// </summary>
public sealed record DeviceChange(Device Device, string? NewSecret);

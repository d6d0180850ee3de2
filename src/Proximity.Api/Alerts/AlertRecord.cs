using System.Text.Json.Serialization;
using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Alerts;

/// <summary>Handling lifecycle: Open → Acknowledged → Dispatched → Resolved (with a reason).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AlertState>))]
public enum AlertState { Open, Acknowledged, Dispatched, Resolved }

/// <summary>One operator action on an alert.</summary>
public sealed record AlertAction(string Action, string User, DateTimeOffset At, string? Note);

/// <summary>An alert as the control room handles it: the decision core's alert plus its handling.</summary>
public sealed record AlertRecord
{
    public required Alert Alert { get; init; }
    public required AlertState State { get; init; }
    public required IReadOnlyList<AlertAction> Actions { get; init; }
    /// <summary>Server time the alert was first stored.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>Increases with every change; lets a live client skip stale updates.</summary>
    public required long Revision { get; init; }

    /// <summary>Open for privacy purposes: not yet resolved by an operator.</summary>
    [JsonIgnore]
    public bool IsOpen => State != AlertState.Resolved;
}

/// <summary>What happened to an alert: raised, updated, cleared (condition ended), acknowledged, dispatched, resolved.</summary>
public sealed record AlertChange(string Kind, AlertRecord Record);

public sealed record AlertFilter
{
    public AlertState? State { get; init; }
    /// <summary>Only alerts not yet resolved.</summary>
    public bool? Open { get; init; }
    public AlertSeverity? MinSeverity { get; init; }
    public AlertType? Type { get; init; }
    public string? OffenderId { get; init; }
    public string? VictimId { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public int Limit { get; init; } = 500;

    public bool Matches(AlertRecord r) =>
        (State is null || r.State == State) &&
        (Open is null || r.IsOpen == Open) &&
        (MinSeverity is null || r.Alert.Severity >= MinSeverity) &&
        (Type is null || r.Alert.Type == Type) &&
        (OffenderId is null || r.Alert.OffenderId == OffenderId) &&
        (VictimId is null || r.Alert.VictimId == VictimId) &&
        (From is null || r.Alert.RaisedAt >= From) &&
        (To is null || r.Alert.RaisedAt < To);
}

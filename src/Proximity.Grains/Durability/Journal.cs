using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Durability;

/// <summary>
/// Where alerts are recorded before they are published (the outbox). Idempotent by alert id, which is
/// deterministic (<c>{banId}:{type}:{raisedAt}</c>), so a retried raise never makes a second alert.
/// </summary>
public interface IAlertJournal
{
    /// <summary>Stores a raised alert (with its evidence); a second call with the same id changes nothing.</summary>
    Task RecordAsync(Alert alert, CancellationToken cancellationToken = default);

    /// <summary>Stores a later state of a recorded alert (cleared, escalated).</summary>
    Task UpdateAsync(Alert alert, CancellationToken cancellationToken = default);

    /// <summary>Records a control-room step (acknowledged, dispatched, resolved).</summary>
    Task TransitionAsync(string alertId, AlertStatus to, string by, string? note, CancellationToken cancellationToken = default);

    /// <summary>Every route took the alert: it leaves the outbox.</summary>
    Task MarkPublishedAsync(string alertId, CancellationToken cancellationToken = default);
}

/// <summary>Memory mode: grain state is the only record.</summary>
public sealed class NoAlertJournal : IAlertJournal
{
    public Task RecordAsync(Alert alert, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task UpdateAsync(Alert alert, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task TransitionAsync(string alertId, AlertStatus to, string by, string? note, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task MarkPublishedAsync(string alertId, CancellationToken cancellationToken = default) => Task.CompletedTask;
}

/// <summary>Position history of accepted fixes. Never blocks: the decision path must not wait for a database.</summary>
public interface IFixRecorder
{
    /// <summary>Takes the fix for the history; false when it cannot (bounded buffer full): the message carrying it
    /// must not be acknowledged, so that it is sent again.</summary>
    bool Record(in PositionFix fix, DateTimeOffset receivedAt, string personId);

    /// <summary>
    /// Completes when every fix recorded before the call is durable (what the MQTT acknowledgement waits for);
    /// at once where the history does not outlive the process.
    /// </summary>
    Task WhenWrittenAsync() => Task.CompletedTask;
}

/// <summary>Memory mode: no position history.</summary>
public sealed class NoFixRecorder : IFixRecorder
{
    public bool Record(in PositionFix fix, DateTimeOffset receivedAt, string personId) => true;
}

using System.Text.Json;
using Microsoft.Extensions.Logging;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
using Proximity.Storage.Alerts;
using Proximity.Storage.Positions;
using StoredState = Proximity.Storage.Alerts.AlertState;

namespace Proximity.Grains.Durability;

/// <summary>Alerts in PostgreSQL (<see cref="AlertStore"/>): the alert id is the idempotency key.</summary>
public sealed class PostgresAlertJournal(AlertStore store) : IAlertJournal
{
    public Task RecordAsync(Alert alert, CancellationToken cancellationToken = default) =>
        store.RecordAsync(alert, alert.Id, cancellationToken);

    public async Task UpdateAsync(Alert alert, CancellationToken cancellationToken = default)
    {
        // A clear or escalation of an alert whose raise never reached the database (recorded before storage
        // was switched on) is recorded as it is now.
        if ((await store.RecordAsync(alert, alert.Id, cancellationToken)).Created) return;
        await store.UpdateAsync(alert, cancellationToken);
    }

    public async Task TransitionAsync(string alertId, AlertStatus to, string by, string? note, CancellationToken cancellationToken = default)
    {
        string? detail = note is null ? null : JsonSerializer.Serialize(new { note });
        try
        {
            await store.TransitionAsync(alertId, Enum.Parse<StoredState>(to.ToString()), by, detail, cancellationToken);
        }
        catch (AlertTransitionException) when (to == AlertStatus.Resolved || to == AlertStatus.Dispatched)
        {
            // The grain allows Open → Dispatched; the store steps one state at a time: acknowledge on the way.
            await store.TransitionAsync(alertId, StoredState.Acknowledged, by, null, cancellationToken);
            await store.TransitionAsync(alertId, Enum.Parse<StoredState>(to.ToString()), by, detail, cancellationToken);
        }
    }

    public Task MarkPublishedAsync(string alertId, CancellationToken cancellationToken = default) =>
        store.MarkPublishedAsync(alertId, cancellationToken);
}

/// <summary>Accepted fixes into the batched position history (<see cref="PositionWriteBuffer"/>).</summary>
public sealed class BufferedFixRecorder(PositionWriteBuffer buffer, ILogger<BufferedFixRecorder> logger) : IFixRecorder
{
    private long _lastWarning;

    public bool Record(in PositionFix fix, DateTimeOffset receivedAt, string personId)
    {
        if (buffer.TryAdd(new StoredFix(fix, receivedAt, personId))) return true;
        // Full while the database is away: the message is not acknowledged and comes again (counted by the buffer).
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _lastWarning);
        if (now - last > 10_000 && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
            logger.LogError("position history buffer full ({Refused} fixes refused so far): the database is away too long; device messages are not acknowledged until it is back", buffer.Refused);
        return false;
    }

    public Task WhenWrittenAsync() => buffer.WhenWrittenUnlessAwayAsync();
}

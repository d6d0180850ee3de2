using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

[GenerateSerializer]
public sealed class AlertState
{
    [Id(0)] public Alert? Alert { get; set; }
    [Id(1)] public AlertStatus Status { get; set; }
    [Id(2)] public DateTimeOffset RecordedAt { get; set; }
    [Id(3)] public bool Escalated { get; set; }
    [Id(4)] public List<AlertHistoryEntry> History { get; set; } = [];
}

/// <summary>
/// One alert: recorded first, then published; then handled by the control room (Open → Acknowledged →
/// Dispatched → Resolved). A Critical alert nobody acknowledges is escalated to the police control room.
/// </summary>
public sealed class AlertGrain(
    [PersistentState("alert", ProximitySilo.StorageName)] IPersistentState<AlertState> state,
    IAlertOutbox outbox,
    IAlertJournal journal,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time,
    IOptions<ProximityOptions> options,
    DecisionMetrics metrics,
    ILogger<AlertGrain> logger) : Grain, IAlertGrain
{
    private readonly ProximityOptions _options = options.Value;
    private IGrainTimer? _escalation;

    private AlertState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        WatchEscalation();
        return Task.CompletedTask;
    }

    public async Task Raise(Alert alert)
    {
        if (S.Alert is not null) return; // a retried call: already recorded and published
        using var activity = ProximityTracing.Source.StartActivity("alert raised");
        activity?.SetTag("proximity.alert.id", alert.Id);
        activity?.SetTag("proximity.alert.type", alert.Type.ToString());
        // Recorded (the outbox row) before anyone hears of it; a retry after a failure finds the row by the alert id.
        await journal.RecordAsync(alert);
        var now = time.GetUtcNow();
        S.Alert = alert;
        S.Status = AlertStatus.Open;
        S.RecordedAt = now;
        S.History.Add(new AlertHistoryEntry(now, "raised", "system", alert.Evidence.Summary));
        await state.WriteStateAsync();
        metrics.Raised(alert);
        outbox.Publish(alert);
        logger.LogInformation("alert {AlertId} {Type} {Severity} raised for offender {Offender} victim {Victim}: {Summary}",
            alert.Id, alert.Type, alert.Severity, alert.OffenderId, alert.VictimId, alert.Evidence.Summary);
        WatchEscalation();
    }

    public async Task Clear(Alert cleared)
    {
        if (S.Alert is { ClearedAt: not null }) return;
        await journal.UpdateAsync(cleared);
        var now = time.GetUtcNow();
        if (S.Alert is null) { S.Status = AlertStatus.Open; S.RecordedAt = now; }
        S.Alert = cleared;
        S.History.Add(new AlertHistoryEntry(now, "cleared", "system", cleared.ClearReason));
        await state.WriteStateAsync();
        outbox.Publish(cleared);
    }

    public Task<AlertRecord> Acknowledge(string by) =>
        Transition(AlertStatus.Acknowledged, by, null, "acknowledged", AlertStatus.Open);

    public Task<AlertRecord> Dispatch(string unit, string by) =>
        string.IsNullOrWhiteSpace(unit)
            ? throw new ArgumentException("a dispatch names the unit sent")
            : Transition(AlertStatus.Dispatched, by, unit, "dispatched", AlertStatus.Open, AlertStatus.Acknowledged);

    public Task<AlertRecord> Resolve(string reason, string by) =>
        string.IsNullOrWhiteSpace(reason)
            ? throw new ArgumentException("resolving an alert needs a reason")
            : Transition(AlertStatus.Resolved, by, reason, "resolved", AlertStatus.Open, AlertStatus.Acknowledged, AlertStatus.Dispatched);

    public Task<AlertRecord?> Get() => Task.FromResult(S.Alert is null ? null : Record());

    private async Task<AlertRecord> Transition(AlertStatus to, string by, string? note, string what, params AlertStatus[] from)
    {
        if (S.Alert is null) throw new InvalidOperationException($"alert {GrainKeys.IdOf(this.GetPrimaryKeyString())} does not exist");
        if (string.IsNullOrWhiteSpace(by)) throw new ArgumentException("who did it must be recorded");
        if (!from.Contains(S.Status)) throw new InvalidOperationException($"alert {S.Alert.Id} is {S.Status}; it cannot be {what}");
        await journal.TransitionAsync(S.Alert.Id, to, by, note);
        S.Status = to;
        S.History.Add(new AlertHistoryEntry(time.GetUtcNow(), what, by, note));
        await state.WriteStateAsync();
        StopEscalation();
        return Record();
    }

    private AlertRecord Record() => new(S.Alert!, S.Status, S.RecordedAt, S.Escalated, S.History.ToArray());

    private void WatchEscalation()
    {
        if (_escalation is not null || S.Alert is not { Severity: AlertSeverity.Critical } || S.Status != AlertStatus.Open || S.Escalated) return;
        if (_options.EscalateCriticalAfter <= TimeSpan.Zero) return;
        _escalation = this.RegisterGrainTimer(CheckEscalation, new GrainTimerCreationOptions(_options.EscalationCheckPeriod, _options.EscalationCheckPeriod)
        {
            KeepAlive = true,
        });
    }

    private async Task CheckEscalation(CancellationToken ct)
    {
        if (S.Alert is null || S.Status != AlertStatus.Open || S.Escalated) { StopEscalation(); return; }
        var now = time.GetUtcNow();
        if (now - S.RecordedAt < _options.EscalateCriticalAfter) return;
        S.Escalated = true;
        S.Alert = S.Alert with { Recipients = S.Alert.Recipients | AlertRecipients.PoliceControlRoom };
        S.History.Add(new AlertHistoryEntry(now, "escalated", "system",
            $"not acknowledged within {_options.EscalateCriticalAfter.TotalSeconds:F0} s: police control room added"));
        await journal.UpdateAsync(S.Alert, ct);
        await state.WriteStateAsync(ct);
        outbox.Publish(S.Alert);
        logger.LogWarning("alert {AlertId} not acknowledged within {Limit}: escalated to the police control room", S.Alert.Id, _options.EscalateCriticalAfter);
        StopEscalation();
    }

    private void StopEscalation()
    {
        _escalation?.Dispose();
        _escalation = null;
    }
}

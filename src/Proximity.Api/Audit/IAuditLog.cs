namespace Proximity.Api.Audit;

/// <summary>Who read or changed what, when and why.</summary>
public sealed record AuditRecord(
    long Sequence,
    DateTimeOffset At,
    string User,
    string Roles,
    string Action,
    string Subject,
    string? Reason,
    string? Detail);

public sealed record AuditQuery
{
    public string? User { get; init; }
    /// <summary>Exact subject ("offender/o-1") or a prefix ending in '/' ("offender/").</summary>
    public string? Subject { get; init; }
    public string? Action { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public int Limit { get; init; } = 1000;
}

/// <summary>Append-only audit trail. Writing must succeed before the audited data is returned.</summary>
public interface IAuditLog
{
    Task<AuditRecord> WriteAsync(string user, string roles, string action, string subject, string? reason, string? detail = null);
    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query);
}

public sealed class InMemoryAuditLog(TimeProvider clock) : IAuditLog
{
    private readonly Lock _lock = new();
    private readonly List<AuditRecord> _records = [];

    public InMemoryAuditLog() : this(TimeProvider.System) { }

    public Task<AuditRecord> WriteAsync(string user, string roles, string action, string subject, string? reason, string? detail = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        lock (_lock)
        {
            var r = new AuditRecord(_records.Count + 1, clock.GetUtcNow(), user, roles, action, subject, reason, detail);
            _records.Add(r);
            return Task.FromResult(r);
        }
    }

    public Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<AuditRecord>>(_records.Where(r =>
                    (query.User is null || r.User == query.User) &&
                    (query.Action is null || r.Action == query.Action) &&
                    (query.Subject is null || (query.Subject.EndsWith('/') ? r.Subject.StartsWith(query.Subject, StringComparison.Ordinal) : r.Subject == query.Subject)) &&
                    (query.From is null || r.At >= query.From) && (query.To is null || r.At < query.To))
                .Reverse().Take(Math.Clamp(query.Limit, 1, 10_000)).ToList());
    }
}

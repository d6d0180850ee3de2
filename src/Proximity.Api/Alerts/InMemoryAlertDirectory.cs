using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Proximity.Api.Problems;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Alerts;

/// <summary>Alerts in memory; each watcher gets its own unbounded channel so a slow page never loses a change.</summary>
public sealed class InMemoryAlertDirectory(TimeProvider clock, IAlertHandling? handling = null) : IAlertDirectory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, AlertRecord> _alerts = new(StringComparer.Ordinal);
    private readonly List<Channel<AlertChange>> _watchers = [];
    private long _revision;

    public InMemoryAlertDirectory() : this(TimeProvider.System) { }

    public Task<AlertRecord> PublishAsync(MonitorEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        InMemoryRegistryIds.Check(e.Alert.Id);
        AlertChange change;
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            if (_alerts.TryGetValue(e.Alert.Id, out var existing))
            {
                // A later state of the same episode: new evidence or the clearing; the handling is kept.
                var record = existing with { Alert = e.Alert, Revision = ++_revision };
                change = new AlertChange(e.Kind == MonitorEventKind.Cleared ? "cleared" : "updated", record);
            }
            else
            {
                var record = new AlertRecord { Alert = e.Alert, State = AlertState.Open, Actions = [], ReceivedAt = now, Revision = ++_revision };
                change = new AlertChange(e.Kind == MonitorEventKind.Cleared ? "cleared" : "raised", record);
            }
            _alerts[e.Alert.Id] = change.Record;
            Notify(change);
        }
        return Task.FromResult(change.Record);
    }

    public Task<IReadOnlyList<AlertRecord>> ListAsync(AlertFilter filter)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<AlertRecord>>(_alerts.Values.Where(filter.Matches)
                .OrderByDescending(r => r.Alert.RaisedAt).ThenBy(r => r.Alert.Id, StringComparer.Ordinal)
                .Take(Math.Clamp(filter.Limit, 1, 5000)).ToList());
    }

    public Task<AlertRecord?> GetAsync(string id)
    {
        lock (_lock) return Task.FromResult(_alerts.GetValueOrDefault(id));
    }

    public Task<AlertRecord> AcknowledgeAsync(string id, string user, string? note) =>
        Transition(id, user, "acknowledged", AlertState.Acknowledged, note, [AlertState.Open],
            handling is null ? null : () => handling.AcknowledgeAsync(id, user, note));

    public Task<AlertRecord> DispatchAsync(string id, string user, string unit)
    {
        if (string.IsNullOrWhiteSpace(unit)) throw ApiProblemException.Invalid("unit is required: name the unit that was sent.");
        return Transition(id, user, "dispatched", AlertState.Dispatched, unit.Trim(), [AlertState.Open, AlertState.Acknowledged],
            handling is null ? null : () => handling.DispatchAsync(id, user, unit.Trim()));
    }

    public Task<AlertRecord> ResolveAsync(string id, string user, string reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw ApiProblemException.Invalid("reason is required to resolve an alert.");
        return Transition(id, user, "resolved", AlertState.Resolved, reason.Trim(),
            [AlertState.Open, AlertState.Acknowledged, AlertState.Dispatched],
            handling is null ? null : () => handling.ResolveAsync(id, user, reason.Trim()));
    }

    public Task<bool> HasOpenAlertAboutVictimAsync(string victimId)
    {
        lock (_lock) return Task.FromResult(_alerts.Values.Any(r => r.IsOpen && r.Alert.VictimId == victimId));
    }

    public Task<bool> HasOpenAlertAboutOffenderAsync(string offenderId, bool policeRoutedOnly)
    {
        lock (_lock)
            return Task.FromResult(_alerts.Values.Any(r => r.IsOpen && r.Alert.OffenderId == offenderId &&
                (!policeRoutedOnly || r.Alert.Recipients.HasFlag(AlertRecipients.PoliceControlRoom))));
    }

    /// <summary>Subscribes at once (not at the first MoveNext), so a caller can take a snapshot after calling this.</summary>
    public IAsyncEnumerable<AlertChange> WatchAsync(CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<AlertChange>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock) _watchers.Add(channel);
        cancellationToken.Register(() =>
        {
            lock (_lock) _watchers.Remove(channel);
            channel.Writer.TryComplete();
        });
        return Read(channel, cancellationToken);
    }

    private static async IAsyncEnumerable<AlertChange> Read(Channel<AlertChange> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await channel.Reader.WaitToReadAsync(cancellationToken))
            while (channel.Reader.TryRead(out var change))
                yield return change;
    }

    private async Task<AlertRecord> Transition(string id, string user, string action, AlertState to, string? note, AlertState[] from, Func<Task>? record)
    {
        if (string.IsNullOrWhiteSpace(user)) throw ApiProblemException.Invalid("the acting user is unknown.");
        Check(id, action, from);
        if (record is not null) await record(); // the owner of the alert records it first
        lock (_lock)
        {
            var r = CheckLocked(id, action, from);
            var next = r with
            {
                State = to,
                Actions = [.. r.Actions, new AlertAction(action, user, clock.GetUtcNow(), string.IsNullOrWhiteSpace(note) ? null : note.Trim())],
                Revision = ++_revision,
            };
            _alerts[id] = next;
            Notify(new AlertChange(action, next));
            return next;
        }
    }

    private void Check(string id, string action, AlertState[] from)
    {
        lock (_lock) CheckLocked(id, action, from);
    }

    private AlertRecord CheckLocked(string id, string action, AlertState[] from)
    {
        if (!_alerts.TryGetValue(id, out var r)) throw ApiProblemException.NotFound("alert", id);
        if (!from.Contains(r.State))
            throw ApiProblemException.Conflict($"alert '{id}' is {r.State}; it cannot be {action} now.");
        return r;
    }

    private void Notify(AlertChange change)
    {
        foreach (var w in _watchers) w.Writer.TryWrite(change);
    }
}

internal static class InMemoryRegistryIds
{
    public static void Check(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) throw ApiProblemException.Invalid("an alert needs an id.");
    }
}

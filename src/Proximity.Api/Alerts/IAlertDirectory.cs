using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Alerts;

/// <summary>
/// Every alert and its handling. The live pipeline publishes the decision core's events; operators act on them.
/// Implementations: <see cref="InMemoryAlertDirectory"/>; alert grains with durable storage later.
/// </summary>
public interface IAlertDirectory
{
    /// <summary>Stores a raised or updated alert, or marks it cleared; then tells the watchers.</summary>
    Task<AlertRecord> PublishAsync(MonitorEvent e);

    Task<IReadOnlyList<AlertRecord>> ListAsync(AlertFilter filter);
    Task<AlertRecord?> GetAsync(string id);

    Task<AlertRecord> AcknowledgeAsync(string id, string user, string? note);
    /// <summary>A unit was sent; <paramref name="unit"/> names it.</summary>
    Task<AlertRecord> DispatchAsync(string id, string user, string unit);
    Task<AlertRecord> ResolveAsync(string id, string user, string reason);

    /// <summary>True while an alert about this victim is not resolved.</summary>
    Task<bool> HasOpenAlertAboutVictimAsync(string victimId);
    Task<bool> HasOpenAlertAboutOffenderAsync(string offenderId, bool policeRoutedOnly);

    /// <summary>Every change from now on, until cancelled.</summary>
    IAsyncEnumerable<AlertChange> WatchAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Where operator actions are recorded first when another component owns alerts (the live pipeline's alert
/// grains). The directory checks the transition, calls this, and only then applies and announces the change.
/// Implementations throw <see cref="Problems.ApiProblemException"/> (409) when the owner refuses the transition.
/// </summary>
public interface IAlertHandling
{
    Task AcknowledgeAsync(string alertId, string user, string? note);
    Task DispatchAsync(string alertId, string user, string unit);
    Task ResolveAsync(string alertId, string user, string reason);
}

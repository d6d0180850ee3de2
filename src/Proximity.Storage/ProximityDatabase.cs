using Npgsql;
using Polly;
using Proximity.Storage.Resilience;

namespace Proximity.Storage;

/// <summary>
/// The one handle the stores share: a pooled Npgsql data source (PostGIS types through
/// NetTopologySuite) and the resilience pipeline database calls run through.
/// </summary>
public sealed class ProximityDatabase : IAsyncDisposable
{
    public ProximityDatabase(NpgsqlDataSource dataSource, ResiliencePipeline? pipeline = null)
    {
        DataSource = dataSource;
        Pipeline = pipeline ?? ResiliencePipeline.Empty;
    }

    public NpgsqlDataSource DataSource { get; }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>Opens a data source for <paramref name="connectionString"/> with PostGIS geometry mapping.</summary>
    public static ProximityDatabase Open(string connectionString, DatabaseResilienceOptions? resilience = null)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException("a PostgreSQL connection string is required", nameof(connectionString));
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseNetTopologySuite();
        return new ProximityDatabase(builder.Build(), DatabaseResilience.CreatePipeline(resilience ?? new DatabaseResilienceOptions()));
    }

    /// <summary>Runs <paramref name="action"/> through the retry / circuit-breaker pipeline.</summary>
    public ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken = default) =>
        Pipeline.ExecuteAsync(action, cancellationToken);

    public ValueTask RunAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken = default) =>
        Pipeline.ExecuteAsync(action, cancellationToken);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}

using System.Net.Sockets;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Proximity.Storage.Resilience;

public sealed class DatabaseResilienceOptions
{
    /// <summary>Retries of one call after a transient failure (0 = none).</summary>
    public int MaxRetryAttempts { get; set; } = 4;
    /// <summary>First retry delay; it doubles (with jitter) per attempt.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Failure ratio within <see cref="SamplingDuration"/> that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;
    public int MinimumThroughput { get; set; } = 8;
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>How long calls fail fast once the circuit is open, before one is let through to probe.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Polly pipelines for database calls: retry transient Npgsql failures, then break the circuit.</summary>
public static class DatabaseResilience
{
    /// <summary>
    /// Transient: network trouble, server shutting down or restarting, too many connections,
    /// serialization / deadlock failures. Not transient: constraint violations, bad SQL.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is "57P01" or "57P02" or "57P03" or "53300" or "40001" or "40P01",
        NpgsqlException npg => npg.IsTransient || npg.InnerException is SocketException or IOException or TimeoutException,
        TimeoutException or SocketException => true,
        _ => false,
    };

    public static ResiliencePipeline CreatePipeline(DatabaseResilienceOptions options)
    {
        var handle = new PredicateBuilder().Handle<Exception>(IsTransient);
        var builder = new ResiliencePipelineBuilder();
        if (options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = handle,
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
            });
        }
        // The breaker sits inside the retry: an open circuit fails the remaining attempts fast
        // instead of piling connections onto a database that is away.
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = handle,
            FailureRatio = options.FailureRatio,
            MinimumThroughput = options.MinimumThroughput,
            SamplingDuration = options.SamplingDuration,
            BreakDuration = options.BreakDuration,
        });
        return builder.Build();
    }
}

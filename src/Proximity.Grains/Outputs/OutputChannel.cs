using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Proximity.Grains.Outputs;

/// <summary>
/// One output route (the MQTT alerts topic, one webhook, device messages) with its own bounded queue, retry
/// and circuit breaker. Enqueueing never blocks: a slow or failing route fills only its own queue, and when
/// that is full new items are dropped and counted, so decisions and the other routes go on at full speed.
/// </summary>
public sealed class OutputChannel<T> : IAsyncDisposable
{
    private readonly Channel<T> _queue;
    private readonly Func<T, CancellationToken, ValueTask> _send;
    private readonly ResiliencePipeline _pipeline;
    private readonly OutputOptions _options;
    private readonly OutputMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private Task _pump = Task.CompletedTask;
    private DateTimeOffset _lastFailureLog = DateTimeOffset.MinValue;

    public OutputChannel(string name, Func<T, CancellationToken, ValueTask> send, OutputOptions options, OutputMetrics metrics,
        ILogger logger, TimeProvider time)
    {
        Name = name;
        _send = send;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _queue = Channel.CreateBounded<T>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of evicting queued items
            SingleReader = true,
        });
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.RetryAttempts,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not BrokenCircuitException and not OperationCanceledException),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.BreakDuration,
            })
            .AddTimeout(options.SendTimeout)
            .Build();
    }

    public string Name { get; }

    public int Pending => _queue.Reader.Count;

    public bool TryEnqueue(T item)
    {
        if (_queue.Writer.TryWrite(item)) return true;
        _metrics.Dropped(Name);
        _logger.LogError("output {Channel}: queue full ({Capacity}), item dropped", Name, _options.QueueCapacity);
        return false;
    }

    public void Start() => _pump = Task.Run(() => PumpAsync(_stop.Token));

    private async Task PumpAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(ct))
                await DeliverAsync(item, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    // Keeps retrying one item (order matters to a control room) until it goes through or is too old to matter.
    private async Task DeliverAsync(T item, CancellationToken ct)
    {
        var first = _time.GetUtcNow();
        while (true)
        {
            try
            {
                await _pipeline.ExecuteAsync(static (s, c) => s.Send(s.Item, c), (Send: _send, Item: item), ct);
                _metrics.Sent(Name);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                var now = _time.GetUtcNow();
                if (now - first > _options.GiveUpAfter)
                {
                    _metrics.Failed(Name);
                    _logger.LogError(e, "output {Channel}: gave up on an item after {Elapsed}", Name, now - first);
                    return;
                }
                if (now - _lastFailureLog > TimeSpan.FromSeconds(10))
                {
                    _lastFailureLog = now;
                    _logger.LogWarning("output {Channel}: delivery failing ({Error}); {Pending} queued, retrying", Name, e.Message, Pending);
                }
                await Task.Delay(_options.RetryPause, _time, ct);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        // Give queued items a moment to leave, then stop.
        await Task.WhenAny(_pump, Task.Delay(_options.DrainOnStop, _time));
        await _stop.CancelAsync();
        try { await _pump; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}

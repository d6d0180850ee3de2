using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Proximity.Storage.Positions;

public sealed class PositionWriteBufferOptions
{
    /// <summary>Fixes waiting in memory at most (besides the batch being written); beyond it <see cref="PositionWriteBuffer.TryAdd"/> refuses.</summary>
    public int Capacity { get; set; } = 200_000;
    /// <summary>Fixes per COPY.</summary>
    public int BatchSize { get; set; } = 2_000;
    /// <summary>Longest a fix waits for a batch to fill (nobody waits for it: see <see cref="PositionWriteBuffer.FlushAsync"/>).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Wait after a failed batch before it is tried again (doubles up to <see cref="MaxRetryDelay"/>).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Takes position-history writes off the decision path: <see cref="TryAdd"/> never blocks and
/// never touches the database; a background loop writes batches and, while the database is away,
/// keeps them (up to <see cref="PositionWriteBufferOptions.Capacity"/> fixes) and tries again.
/// </summary>
public sealed class PositionWriteBuffer : IAsyncDisposable
{
    private readonly Func<IReadOnlyList<StoredFix>, CancellationToken, Task> _write;
    private readonly PositionWriteBufferOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<StoredFix> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _progressLock = new();
    private readonly List<(long Target, TaskCompletionSource Done, bool LetGoWhenAway)> _waiters = [];
    private TaskCompletionSource _flushRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _accepted;
    private long _written;
    private long _refused;
    private long _failedAttempts;
    private volatile bool _databaseAway;

    public PositionWriteBuffer(PositionStore store, PositionWriteBufferOptions? options = null, ILogger<PositionWriteBuffer>? logger = null)
        : this((batch, ct) => store.AppendBatchAsync(batch, ct), options, logger)
    {
    }

    /// <summary>With any batch writer (the store, or the store behind a resilience pipeline).</summary>
    public PositionWriteBuffer(Func<IReadOnlyList<StoredFix>, CancellationToken, Task> write, PositionWriteBufferOptions? options = null, ILogger<PositionWriteBuffer>? logger = null)
    {
        _write = write;
        _options = options ?? new PositionWriteBufferOptions();
        if (_options.Capacity < 1 || _options.BatchSize < 1) throw new ArgumentException("capacity and batch size must be positive", nameof(options));
        _logger = logger ?? NullLogger<PositionWriteBuffer>.Instance;
        _channel = Channel.CreateBounded<StoredFix>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with TryWrite: refuse, never block
            SingleReader = true,
        });
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Fixes accepted so far.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);
    /// <summary>Fixes durably written so far.</summary>
    public long Written => Interlocked.Read(ref _written);
    /// <summary>Fixes refused because the buffer was full.</summary>
    public long Refused => Interlocked.Read(ref _refused);
    /// <summary>Fixes accepted but not yet written.</summary>
    public long Pending => Accepted - Written;
    /// <summary>Batch writes that failed and were kept for another attempt.</summary>
    public long FailedAttempts => Interlocked.Read(ref _failedAttempts);
    /// <summary>The last batch write failed and is being tried again.</summary>
    public bool DatabaseAway => _databaseAway;

    /// <summary>Queues a fix for the history; false when the buffer is full (the caller counts it).</summary>
    public bool TryAdd(in StoredFix fix)
    {
        if (_channel.Writer.TryWrite(fix))
        {
            Interlocked.Increment(ref _accepted);
            return true;
        }
        Interlocked.Increment(ref _refused);
        return false;
    }

    /// <summary>
    /// Completes when every fix accepted before the call has been written. Someone waiting makes the writer go at
    /// once instead of letting the batch fill: what arrives meanwhile goes with the next batch (group commit).
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => WhenWritten(letGoWhenAway: false).WaitAsync(cancellationToken);

    /// <summary>
    /// Like <see cref="FlushAsync"/> while the database answers; while it is away, at once (and such waiters are let
    /// go when it goes away). What the acknowledgement of a device message waits for: decisions must go on while
    /// the database is away, so for that time the history is held in this bounded buffer only.
    /// </summary>
    public Task WhenWrittenUnlessAwayAsync() => _databaseAway ? Task.CompletedTask : WhenWritten(letGoWhenAway: true);

    private Task WhenWritten(bool letGoWhenAway)
    {
        long target = Accepted;
        TaskCompletionSource done;
        lock (_progressLock)
        {
            if (Written >= target) return Task.CompletedTask;
            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, done, letGoWhenAway));
            _flushRequested.TrySetResult();
        }
        return done.Task;
    }

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new List<StoredFix>(_options.BatchSize);
        var token = _stop.Token;
        try
        {
            while (await reader.WaitToReadAsync(token))
            {
                // Give a batch a moment to fill unless it already can or someone waits for it.
                Task requested;
                lock (_progressLock)
                {
                    if (_waiters.Count == 0 && _flushRequested.Task.IsCompleted)
                        _flushRequested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    requested = _flushRequested.Task;
                }
                if (reader.Count < _options.BatchSize && !requested.IsCompleted)
                {
                    try { await Task.WhenAny(Task.Delay(_options.FlushInterval, token), requested); }
                    catch (OperationCanceledException) { }
                }
                while (batch.Count < _options.BatchSize && reader.TryRead(out var fix)) batch.Add(fix);
                await WriteUntilDoneAsync(batch, token);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private async Task WriteUntilDoneAsync(List<StoredFix> batch, CancellationToken token)
    {
        var delay = _options.RetryDelay;
        while (true)
        {
            try
            {
                await _write(batch, token);
                _databaseAway = false;
                Progress(batch.Count);
                return;
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                // Keep the batch: the database may be away; new fixes queue up behind it.
                Interlocked.Increment(ref _failedAttempts);
                _databaseAway = true;
                ReleaseWaitersWhileAway();
                _logger.LogWarning(e, "position history: writing {Count} fixes failed; {Pending} pending, retrying in {Delay}", batch.Count, Pending, delay);
                await Task.Delay(delay, token);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    private void ReleaseWaitersWhileAway()
    {
        lock (_progressLock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].LetGoWhenAway) continue;
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    private void Progress(int count)
    {
        long written = Interlocked.Add(ref _written, count);
        lock (_progressLock)
        {
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target > written) continue;
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Stops accepting, writes what is buffered (waiting at most <paramref name="timeout"/>), then stops.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _channel.Writer.TryComplete();
        try { await _loop.WaitAsync(timeout); }
        catch (TimeoutException)
        {
            _logger.LogError("position history: {Pending} fixes not written at shutdown", Pending);
        }
        await _stop.CancelAsync();
        try { await _loop; } catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}

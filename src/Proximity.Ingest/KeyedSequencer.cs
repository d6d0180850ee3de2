namespace Proximity.Ingest;

/// <summary>
/// Runs work concurrently, except that work with the same key (a device) runs one after another in the order it
/// was handed in: one device's messages are judged in order while different devices' go in parallel.
/// </summary>
public sealed class KeyedSequencer
{
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Task<T> Run<T>(string key, Func<Task<T>> work)
    {
        Task<T> task;
        lock (_lock)
        {
            var previous = _tails.GetValueOrDefault(key) ?? Task.CompletedTask;
            task = After(previous, work);
            _tails[key] = task;
        }
        _ = task.ContinueWith(t =>
        {
            lock (_lock) if (_tails.TryGetValue(key, out var tail) && tail == t) _tails.Remove(key);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }

    private static async Task<T> After<T>(Task previous, Func<Task<T>> work)
    {
        // The previous item's outcome is its owner's business; this one only waits for its turn.
        try { await previous.ConfigureAwait(false); }
        catch (Exception) { }
        return await work().ConfigureAwait(false);
    }
}

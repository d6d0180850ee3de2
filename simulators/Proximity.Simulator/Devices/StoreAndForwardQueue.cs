namespace Proximity.Simulator.Devices;

/// <summary>
/// What a device keeps while it has no coverage: fixes and events in the order they were recorded, bounded
/// (the oldest are dropped when full, as a real device's flash ring does). When coverage returns it uploads
/// oldest first, runs of fixes as arrays of at most <c>batchSize</c>, events one by one in their place.
/// </summary>
public sealed class StoreAndForwardQueue(int capacity = 5000, int batchSize = 50)
{
    private readonly Queue<Recorded> _items = new();

    public int Count => _items.Count;
    public long Dropped { get; private set; }
    public int BatchSize { get; } = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize));

    public void Add(Recorded item)
    {
        if (_items.Count >= capacity)
        {
            _items.Dequeue();
            Dropped++;
        }
        _items.Enqueue(item);
    }

    /// <summary>Everything stored, as messages in upload order; the queue is empty afterwards.</summary>
    public List<DeviceMessage> Drain(string deviceId)
    {
        var messages = new List<DeviceMessage>();
        var run = new List<FixRecord>(BatchSize);
        void FlushRun()
        {
            if (run.Count == 0) return;
            messages.Add(DevicePayload.Batch(deviceId, run));
            run.Clear();
        }
        while (_items.TryDequeue(out var item))
        {
            if (item.Fix is { } fix)
            {
                run.Add(fix);
                if (run.Count == BatchSize) FlushRun();
            }
            else
            {
                FlushRun();
                messages.Add(DevicePayload.Event(deviceId, item.Event!.Value));
            }
        }
        FlushRun();
        return messages;
    }
}

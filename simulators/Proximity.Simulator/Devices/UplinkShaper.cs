namespace Proximity.Simulator.Devices;

public sealed record UplinkOptions
{
    /// <summary>Chance that a message is delivered twice (a QoS 1 retry after a lost PUBACK).</summary>
    public double DuplicateProbability { get; init; }

    /// <summary>Chance that a message is held back and sent after the next one.</summary>
    public double ReorderProbability { get; init; }

    /// <summary>Fixes per array when uploading after a coverage gap.</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>Records kept during a coverage gap before the oldest are dropped.</summary>
    public int StoreCapacity { get; init; } = 5000;

    public string? Problem() =>
        DuplicateProbability is < 0 or > 1 || ReorderProbability is < 0 or > 1 ? "uplink probabilities must be within 0..1"
        : BatchSize is < 1 or > 10_000 ? "uplink.batchSize must be within 1..10000"
        : StoreCapacity < 1 ? "uplink.storeCapacity must be positive"
        : null;
}

/// <summary>The imperfections of the way to the broker: duplicates and swapped messages.</summary>
public sealed class UplinkShaper(UplinkOptions options, Random random)
{
    private DeviceMessage? _held;

    public long Duplicates { get; private set; }
    public long Reordered { get; private set; }

    /// <summary>The messages to publish now, in order, for one message the device wants to send.</summary>
    public IEnumerable<DeviceMessage> Shape(DeviceMessage message)
    {
        if (_held is null && random.NextDouble() < options.ReorderProbability)
        {
            _held = message;
            Reordered++;
            yield break;
        }
        yield return message;
        if (random.NextDouble() < options.DuplicateProbability)
        {
            Duplicates++;
            yield return message;
        }
        if (_held is { } held)
        {
            _held = null;
            yield return held;
        }
    }

    /// <summary>A held-back message, if any (at the end of a run).</summary>
    public IEnumerable<DeviceMessage> Flush()
    {
        if (_held is { } held)
        {
            _held = null;
            yield return held;
        }
    }
}

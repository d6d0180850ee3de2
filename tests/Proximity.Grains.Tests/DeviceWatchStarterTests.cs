using Microsoft.Extensions.Logging.Abstractions;
using Proximity.Grains.Registry;
using Proximity.Protocol;

namespace Proximity.Grains.Tests;

/// <summary>At start every device's grain begins its silence watch; one that cannot must not keep the node down.</summary>
public sealed class DeviceWatchStarterTests
{
    [Fact]
    public async Task A_device_whose_grain_cannot_start_watching_is_tried_again_until_it_does_and_the_node_starts_meanwhile()
    {
        var registry = new ProximityRegistry(new CaseFile(
            [new PersonSpec("O1", [new DeviceSpec("a1", "s")]), new PersonSpec("O2", [new DeviceSpec("a2", "s")])], [], [], []), 1000);
        var watched = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        int a2Attempts = 0;
        Task Watch(string id)
        {
            // a2's stored state cannot be read for its first two attempts (the database away, say).
            if (id == "a2" && Interlocked.Increment(ref a2Attempts) <= 2) throw new InvalidOperationException("state unreadable");
            watched[id] = 1;
            return Task.CompletedTask;
        }
        using var starter = new DeviceWatchStarter(Watch, registry, NullLogger<DeviceWatchStarter>.Instance, TimeSpan.FromMilliseconds(20));

        await starter.StartAsync(TestContext.Current.CancellationToken); // does not throw: the node goes on starting
        Assert.True(watched.ContainsKey("a1"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!watched.ContainsKey("a2")) await Task.Delay(10, timeout.Token);
        Assert.Equal(3, a2Attempts);
        await starter.StopAsync(TestContext.Current.CancellationToken);
    }
}

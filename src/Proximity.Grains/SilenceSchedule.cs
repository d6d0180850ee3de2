namespace Proximity.Grains;

/// <summary>
/// When a device grain looks at its silence next: when the first watched silence would pass its limit, so a
/// silent device is reported on time without a look every second (with 100 000 devices a periodic look costs as
/// many grain turns as the fixes themselves). Messages only move the limits later, so a look is never late.
/// </summary>
public static class SilenceSchedule
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(10);

    /// <param name="lastMessage">The last message, or null when DeviceOffline is already open (nothing to watch).</param>
    /// <param name="lastFix">The last usable fix, or null when NoPositionFix is already open.</param>
    /// <param name="limit">The silence that is reported.</param>
    /// <param name="longest">The longest wait; it only matters when the clock jumps.</param>
    public static TimeSpan NextCheck(DateTimeOffset now, DateTimeOffset? lastMessage, DateTimeOffset? lastFix, TimeSpan limit, TimeSpan longest)
    {
        var due = longest;
        if (lastMessage is { } m && m + limit - now < due) due = m + limit - now;
        if (lastFix is { } f && f + limit - now < due) due = f + limit - now;
        // Just past the limit (the comparison is strict), and never a busy loop.
        due += TimeSpan.FromMilliseconds(1);
        return due < Shortest ? Shortest : due;
    }
}

namespace Proximity.Grains.Tests;

public sealed class SilenceScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(64.5);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(15);

    [Fact]
    public void A_device_is_looked_at_just_after_its_silence_limit_not_every_second()
    {
        var due = SilenceSchedule.NextCheck(T0 + TimeSpan.FromSeconds(60), lastMessage: T0, lastFix: T0, Limit, TimeSpan.FromMinutes(10));
        Assert.InRange(due, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(4.6));
    }

    [Fact]
    public void The_wait_is_bounded_so_a_clock_jump_is_noticed()
    {
        Assert.Equal(Longest + TimeSpan.FromMilliseconds(1), SilenceSchedule.NextCheck(T0, T0, T0, Limit, Longest));
    }

    [Fact]
    public void The_earliest_watched_limit_wins_and_an_open_condition_is_not_watched()
    {
        var now = T0 + TimeSpan.FromSeconds(60);
        var lastFix = T0;
        var lastMessage = T0 + TimeSpan.FromSeconds(50); // messages without a fix since T0
        Assert.InRange(SilenceSchedule.NextCheck(now, lastMessage, lastFix, Limit, TimeSpan.FromMinutes(10)), TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(4.6));
        // NoPositionFix already open: only the message silence is watched.
        Assert.InRange(SilenceSchedule.NextCheck(now, lastMessage, null, Limit, TimeSpan.FromMinutes(10)), TimeSpan.FromSeconds(54.5), TimeSpan.FromSeconds(54.6));
    }

    [Fact]
    public void A_limit_already_passed_is_looked_at_soon_but_never_in_a_busy_loop()
    {
        var due = SilenceSchedule.NextCheck(T0 + TimeSpan.FromHours(1), T0, T0, Limit, Longest);
        Assert.Equal(TimeSpan.FromMilliseconds(10), due);
    }

    [Fact]
    public void Nothing_watched_waits_the_longest()
    {
        Assert.Equal(Longest + TimeSpan.FromMilliseconds(1), SilenceSchedule.NextCheck(T0, null, null, Limit, Longest));
    }

    /// <summary>Whatever the messages, the look after each look is never later than the earliest watched limit.</summary>
    [Fact]
    public void Following_the_schedule_never_looks_later_than_a_limit()
    {
        var random = new Random(7);
        var now = T0;
        var lastMessage = T0;
        for (int step = 0; step < 10_000; step++)
        {
            var due = SilenceSchedule.NextCheck(now, lastMessage, null, Limit, TimeSpan.FromMinutes(10));
            var next = now + due;
            var limit = lastMessage + Limit;
            Assert.True(next <= limit + TimeSpan.FromMilliseconds(10) || due == TimeSpan.FromMilliseconds(10),
                $"step {step}: looked at {next:O}, the limit was {limit:O}");
            // Messages may arrive at any time before the next look; they only move the limit later.
            if (random.NextDouble() < 0.7) lastMessage = now + TimeSpan.FromTicks((long)(random.NextDouble() * due.Ticks));
            now = next;
        }
    }
}

using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Spatial.Tests.Monitoring;

public sealed class ArrivalLatenessTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 21, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LateAfter = TimeSpan.FromSeconds(30);

    private static PositionFix Fix(string device, DateTimeOffset ts) => new(device, 1, ts, 52.09, 5.12, 5);

    [Theory]
    [InlineData(-90)] // the device clock runs ahead
    [InlineData(0)]
    [InlineData(60)]  // and behind
    [InlineData(110)]
    public void A_steady_clock_offset_is_skew_not_lateness(int behindSeconds)
    {
        var lateness = new ArrivalLateness(LateAfter);
        for (int i = 0; i < 20; i++)
        {
            var arrived = T0 + TimeSpan.FromSeconds(10 * i);
            Assert.False(lateness.IsLate(Fix("d1", arrived - TimeSpan.FromSeconds(behindSeconds)), arrived), $"fix {i}");
        }
    }

    [Fact]
    public void A_fix_delivered_long_after_the_devices_usual_lag_is_late()
    {
        var lateness = new ArrivalLateness(LateAfter);
        var skew = TimeSpan.FromSeconds(60);
        Assert.False(lateness.IsLate(Fix("d1", T0 - skew), T0));
        // Stored during a coverage gap and uploaded 40 s later than this device's fixes usually take.
        Assert.True(lateness.IsLate(Fix("d1", T0 - skew), T0 + TimeSpan.FromSeconds(40)));
        Assert.False(lateness.IsLate(Fix("d1", T0 + TimeSpan.FromSeconds(50) - skew), T0 + TimeSpan.FromSeconds(50)));
    }

    [Fact]
    public void A_backlog_as_the_first_thing_heard_is_late_because_skew_is_believed_only_up_to_two_minutes()
    {
        var lateness = new ArrivalLateness(LateAfter);
        Assert.True(lateness.IsLate(Fix("d1", T0 - TimeSpan.FromMinutes(10)), T0));
        Assert.False(lateness.IsLate(Fix("d1", T0 + TimeSpan.FromSeconds(5)), T0 + TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Each_device_has_its_own_baseline()
    {
        var lateness = new ArrivalLateness(LateAfter);
        Assert.False(lateness.IsLate(Fix("behind", T0 - TimeSpan.FromSeconds(100)), T0));
        Assert.False(lateness.IsLate(Fix("exact", T0), T0));
        // 40 s of lag: usual for "behind", late for "exact".
        Assert.True(lateness.IsLate(Fix("exact", T0 + TimeSpan.FromSeconds(10)), T0 + TimeSpan.FromSeconds(50)));
        Assert.False(lateness.IsLate(Fix("behind", T0 + TimeSpan.FromSeconds(10) - TimeSpan.FromSeconds(100)), T0 + TimeSpan.FromSeconds(10)));
    }
}

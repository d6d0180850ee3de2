using System.Text.Json;
using Proximity.Protocol;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Models;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Tests;

public class StoreAndForwardTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 14, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Stored_records_upload_oldest_first_in_arrays_of_the_batch_size_with_events_in_their_place()
    {
        var queue = new StoreAndForwardQueue(capacity: 100, batchSize: 3);
        long seq = 0;
        for (int i = 0; i < 5; i++) queue.Add(Fix(++seq));
        queue.Add(new Recorded(null, new EventRecord(++seq, T0.AddSeconds(seq), "strap_open", 50)));
        for (int i = 0; i < 2; i++) queue.Add(Fix(++seq));

        var messages = queue.Drain("dev-1");
        Assert.Equal(0, queue.Count);
        Assert.Equal([3, 2, 0, 2], messages.Select(m => m.FixCount));
        Assert.Equal(MessageKind.Event, messages[2].Kind);
        Assert.Equal(Topics.Event("dev-1"), messages[2].Topic);

        var seqs = new List<long>();
        foreach (var m in messages)
        {
            if (m.Kind == MessageKind.Position)
            {
                Assert.Equal(Topics.Position("dev-1"), m.Topic);
                Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(m.Payload).RootElement.ValueKind);
                seqs.AddRange(FixJson.ParsePayload(m.Payload, "dev-1").Select(f => f.Seq));
            }
            else seqs.Add(JsonDocument.Parse(m.Payload).RootElement.GetProperty("seq").GetInt64());
        }
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), seqs);
    }

    [Fact]
    public void A_full_store_drops_the_oldest_records()
    {
        var queue = new StoreAndForwardQueue(capacity: 4, batchSize: 10);
        for (long s = 1; s <= 6; s++) queue.Add(Fix(s));
        Assert.Equal(2, queue.Dropped);
        var fixes = FixJson.ParsePayload(queue.Drain("d").Single().Payload, "d");
        Assert.Equal([3L, 4, 5, 6], fixes.Select(f => f.Seq));
    }

    [Fact]
    public void A_device_in_a_coverage_gap_stores_its_fixes_and_uploads_them_when_coverage_returns()
    {
        var device = Device(new VirtualDeviceOptions
        {
            Id = "dev-gap", IntervalSeconds = 10, Uplink = new UplinkOptions { BatchSize = 4 },
            Events = [new ScriptedEvent(15, "coverage_gap", DurationSeconds: 60)],
        });
        var sent = new List<DeviceMessage>();
        var perWake = new List<int>();
        for (var t = T0; t <= T0.AddSeconds(120); t = device.NextWakeAt)
        {
            var batch = device.Advance(t);
            perWake.Add(batch.Count);
            sent.AddRange(batch);
        }
        // Fixes at 20..70 s (6 of them) were taken in the gap and went out together at 80 s, oldest first, before the 80 s fix.
        var arrays = sent.Where(m => JsonDocument.Parse(m.Payload).RootElement.ValueKind == JsonValueKind.Array).ToList();
        Assert.Equal([4, 2], arrays.Select(m => m.FixCount));
        var all = sent.SelectMany(m => FixJson.ParsePayload(m.Payload, "dev-gap")).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(f => f.Seq));
        Assert.Equal(Enumerable.Range(0, 13).Select(i => T0.AddSeconds(10 * i)), all.Select(f => f.Timestamp));
        Assert.Equal(1, device.Stats.Uploads);
    }

    [Fact]
    public void Duplicates_and_reordering_deliver_every_message_with_its_own_sequence_number()
    {
        var device = Device(new VirtualDeviceOptions
        {
            Id = "dev-shaky", IntervalSeconds = 1,
            Uplink = new UplinkOptions { DuplicateProbability = 0.2, ReorderProbability = 0.2 },
        });
        var seqs = new List<long>();
        for (var t = T0; t < T0.AddSeconds(500); t = device.NextWakeAt)
            seqs.AddRange(device.Advance(t).SelectMany(m => FixJson.ParsePayload(m.Payload, "dev-shaky")).Select(f => f.Seq));
        seqs.AddRange(device.Finish().SelectMany(m => FixJson.ParsePayload(m.Payload, "dev-shaky")).Select(f => f.Seq));

        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), seqs.Distinct().Order());
        Assert.True(device.Stats.Duplicates > 50, $"{device.Stats.Duplicates} duplicates");
        Assert.True(device.Stats.Reordered > 30, $"{device.Stats.Reordered} reordered");
        Assert.Equal(500 + device.Stats.Duplicates, seqs.Count);
        Assert.Contains(seqs.Zip(seqs.Skip(1)), p => p.First > p.Second);
    }

    [Fact]
    public void Scripted_events_battery_and_clock_skew_show_in_what_the_device_sends()
    {
        var device = Device(new VirtualDeviceOptions
        {
            Id = "dev-ev", IntervalSeconds = 60, ClockOffsetSeconds = 2.5,
            Battery = new BatteryOptions { StartPercent = 15.2, IdleDrainPercentPerHour = 10 },
            Events =
            [
                new ScriptedEvent(30, "strap_tamper", DurationSeconds: 45),
                new ScriptedEvent(100, "sos"),
                new ScriptedEvent(130, "silent", DurationSeconds: 100),
            ],
        });
        var sent = new List<DeviceMessage>();
        for (var t = T0; t <= T0.AddSeconds(300); t = device.NextWakeAt) sent.AddRange(device.Advance(t));

        var events = sent.Where(m => m.Kind == MessageKind.Event)
            .Select(m => JsonDocument.Parse(m.Payload).RootElement)
            .Select(e => (Type: e.GetProperty("type").GetString(), Ts: FixJson.Timestamp(e.GetProperty("ts"), "ts")))
            .ToList();
        // 0.2 % above the low mark at 10 %/h: low_battery comes after about 72 s, at the 75 s wake.
        Assert.Equal(["strap_open", "low_battery", "strap_closed", "sos"], events.Select(e => e.Type));
        Assert.Equal(T0.AddSeconds(32.5), events[0].Ts);
        Assert.Equal(T0.AddSeconds(77.5), events[2].Ts);

        var fixes = sent.Where(m => m.Kind == MessageKind.Position).SelectMany(m => FixJson.ParsePayload(m.Payload, "dev-ev")).ToList();
        // Device time is 2.5 s ahead; silent from 130 s to 230 s, so the 180 s fix is missing.
        Assert.Equal([2.5, 62.5, 122.5, 242.5, 302.5], fixes.Select(f => (f.Timestamp - T0).TotalSeconds));
    }

    [Fact]
    public void A_set_interval_command_changes_the_reporting_interval_and_bad_commands_change_nothing()
    {
        var device = Device(new VirtualDeviceOptions { Id = "dev-cmd", IntervalSeconds = 30 });
        device.Advance(T0);
        Assert.Equal(T0.AddSeconds(30), device.NextWakeAt);
        Assert.Contains("ignored", device.ApplyCommand("{\"type\":\"set_interval\",\"seconds\":0}"u8));
        Assert.Contains("ignored", device.ApplyCommand("not json"u8));
        Assert.Equal(30, device.IntervalSeconds);
        Assert.Equal("set_interval 5 s", device.ApplyCommand("{\"type\":\"set_interval\",\"seconds\":5}"u8));
        Assert.Equal(T0.AddSeconds(5), device.NextWakeAt);
        Assert.Equal(2, device.Stats.CommandsRejected);
    }

    private static VirtualDevice Device(VirtualDeviceOptions options) =>
        new(options, new MovementModel([new Waypoint(new GeoPoint(52.37, 4.89)), new Waypoint(new GeoPoint(52.38, 4.90))], TravelMode.Walk, new Random(1)),
            T0, new Random(2));

    private static Recorded Fix(long seq) =>
        new(new FixRecord(seq, T0.AddSeconds(seq), 52.37, 4.89, 6.1, 1.2, 90, 80, "gps"), null);
}

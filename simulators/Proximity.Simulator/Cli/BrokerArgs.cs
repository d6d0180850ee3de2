using System.Net;
using Proximity.Simulator.Mqtt;

namespace Proximity.Simulator.Cli;

internal static class BrokerArgs
{
    public const string Help = """
          --broker HOST            broker host (default localhost)
          --port N                 broker port (default 1883)
          --mqtt 5|3.1.1           protocol version (default 5)
          --source-addresses A,B   local addresses to spread connections over (more than ~28k connections)
          --keep-alive S           MQTT keep-alive in seconds (default 60; 0 = none: the client library checks
                                   every connection's keep-alive 4 times a second, which for tens of thousands
                                   of simulated devices costs more CPU than their fixes)
        """;

    public static BrokerOptions Parse(Args args)
    {
        var sources = new List<IPAddress>();
        if (args.Get("source-addresses") is { } list)
            foreach (var s in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                sources.Add(IPAddress.TryParse(s, out var ip) ? ip : throw new UsageException($"--source-addresses: '{s}' is not an IP address"));
        var version = args.Get("mqtt") ?? "5";
        return new BrokerOptions
        {
            Host = args.Get("broker") ?? "localhost",
            Port = args.Int("port", 1883, 1, 65535),
            MqttV5 = version switch { "5" => true, "3.1.1" or "3" => false, _ => throw new UsageException("--mqtt must be 5 or 3.1.1") },
            SourceAddresses = sources,
            KeepAlive = TimeSpan.FromSeconds(args.Int("keep-alive", 60, 0, ushort.MaxValue)),
        };
    }
}

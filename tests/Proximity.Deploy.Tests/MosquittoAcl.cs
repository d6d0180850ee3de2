namespace Proximity.Deploy.Tests;

[Flags]
public enum MqttAccess { None = 0, Read = 1, Write = 2 }

/// <summary>
/// Mosquitto 2.0's acl_file, evaluated as the broker does (src/security_default.c): the user's own
/// "topic" lines first, then the "pattern" lines with %u and %c substituted; "deny" lines are checked
/// before the others; a topic beginning with '$' matches only rules beginning with '$'; a username or
/// client id containing + or # gets nothing from patterns. Read = receive a message on the topic,
/// write = publish to it (2.0 does not check subscriptions themselves).
/// </summary>
public sealed class MosquittoAcl
{
    private sealed record Rule(string Topic, MqttAccess Access, bool Deny);

    private readonly Dictionary<string, List<Rule>> _users = new(StringComparer.Ordinal);
    private readonly List<Rule> _anonymous = [];
    private readonly List<Rule> _patterns = [];

    public static MosquittoAcl Parse(string text)
    {
        var acl = new MosquittoAcl();
        List<Rule> current = acl._anonymous;
        int lineNo = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            string[] parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "user" when parts.Length >= 2:
                    string user = line["user".Length..].Trim();
                    if (!acl._users.TryGetValue(user, out var list)) acl._users[user] = list = [];
                    current = list;
                    break;
                case "topic" or "pattern":
                    var rule = ParseRule(parts, lineNo);
                    (parts[0] == "topic" ? current : acl._patterns).Add(rule);
                    break;
                default:
                    throw new FormatException($"acl line {lineNo}: '{line}' is not a user, topic or pattern line");
            }
        }
        return acl;
    }

    private static Rule ParseRule(string[] parts, int lineNo)
    {
        if (parts.Length == 2) return new Rule(parts[1], MqttAccess.Read | MqttAccess.Write, false);
        if (parts.Length != 3) throw new FormatException($"acl line {lineNo}: no topic");
        var (access, deny) = parts[1] switch
        {
            "read" => (MqttAccess.Read, false),
            "write" => (MqttAccess.Write, false),
            "readwrite" => (MqttAccess.Read | MqttAccess.Write, false),
            "deny" => (MqttAccess.None, true),
            _ => throw new FormatException($"acl line {lineNo}: access '{parts[1]}' is not read, write, readwrite or deny"),
        };
        if (parts[2].Contains(' ', StringComparison.Ordinal)) throw new FormatException($"acl line {lineNo}: topic contains a space");
        return new Rule(parts[2], access, deny);
    }

    public IReadOnlyCollection<string> Users => _users.Keys;

    public bool Allows(string? username, string clientId, string topic, MqttAccess access)
    {
        var own = username is null ? _anonymous : _users.GetValueOrDefault(username) ?? [];
        if (Decide(own.Select(r => (r, r.Topic)), topic, access) is { } ownDecision) return ownDecision;

        if (_patterns.Count == 0) return false;
        if (username is not null && username.IndexOfAny(['+', '#']) >= 0) return false;
        if (clientId.IndexOfAny(['+', '#']) >= 0) return false;
        var patterns = _patterns
            .Where(r => username is not null || !r.Topic.Contains("%u", StringComparison.Ordinal))
            .Select(r => (r, Substitute(r.Topic, username, clientId)));
        return Decide(patterns, topic, access) ?? false;
    }

    private static bool? Decide(IEnumerable<(Rule Rule, string Filter)> rules, string topic, MqttAccess access)
    {
        var list = rules.ToList();
        foreach (var (rule, filter) in list.Where(x => x.Rule.Deny).Concat(list.Where(x => !x.Rule.Deny)))
        {
            if (topic.StartsWith('$') && !filter.StartsWith('$')) continue;
            if (!Matches(filter, topic)) continue;
            if (rule.Deny) return false;
            if ((rule.Access & access) != 0) return true;
        }
        return null;
    }

    private static string Substitute(string filter, string? username, string clientId)
    {
        var s = filter.Replace("%c", clientId, StringComparison.Ordinal);
        return username is null ? s : s.Replace("%u", username, StringComparison.Ordinal);
    }

    /// <summary>MQTT topic filter matching: '+' one level, '#' the rest (including the parent level).</summary>
    public static bool Matches(string filter, string topic)
    {
        string[] f = filter.Split('/');
        string[] t = topic.Split('/');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == "#") return i == f.Length - 1;
            if (i >= t.Length) return false;
            if (f[i] != "+" && f[i] != t[i]) return false;
        }
        return f.Length == t.Length;
    }
}

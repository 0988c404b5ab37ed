using WorldPM.Data;

namespace WorldPM.Tests;

public class PreferencePairTests
{
    [Test]
    public void PairsWithEqualFieldsAreEqual()
    {
        var prompt = new[] { new ChatTurn(ChatRole.User, "2+2?") };
        Assert.That(new PreferencePair(prompt, "4", "5"), Is.EqualTo(new PreferencePair(prompt, "4", "5")));
        Assert.That(new PreferencePair(prompt, "4", "5").Weight, Is.EqualTo(1.0));
    }
}

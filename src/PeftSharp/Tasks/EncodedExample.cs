namespace PeftSharp.Tasks;

/// <summary>
/// One example as token ids, before padding: token type ids where the tokenizer sets them, and either per-token
/// labels (-100 where ignored), a class id, or a regression target.
/// </summary>
sealed record EncodedExample(int[] Ids, int[]? TypeIds = null, int[]? TokenLabels = null, long Label = 0, float Target = 0)
{
    public int Length => Ids.Length;
}

using System.Text;
using PeftSharp.IO;
using static TorchSharp.torch;

namespace PeftSharp.Tests.IO;

/// <summary>Every kind of broken safetensors file fails with a CheckpointFormatException naming file and tensor.</summary>
public class SafetensorsErrorTests
{
    static byte[] Build(string header, int dataBytes, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.GetBytes(declaredLength ?? json.Length).CopyTo(bytes, 0);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    static CheckpointFormatException Fails(byte[] content)
    {
        using var dir = Fixtures.TempDir();
        string path = dir.File("broken.safetensors");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains("broken.safetensors", error.Message);
        return error;
    }

    const string Valid = """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";

    [Fact] public void EmptyFile() => Assert.Contains("8-byte header length", Fails(Array.Empty<byte>()).Message);
    [Fact] public void ShorterThanHeaderLength() => Assert.Contains("header length", Fails(new byte[5]).Message);
    [Fact] public void HeaderLengthPastEndOfFile() => Assert.Contains("runs past the end", Fails(Build(Valid, 16, declaredLength: 4000)).Message);
    [Fact] public void AbsurdHeaderLength() => Assert.Contains("limit", Fails(Build(Valid, 16, declaredLength: long.MaxValue)).Message);
    [Fact] public void HeaderNotJson() => Assert.Contains("not JSON", Fails(Build("{not json", 0)).Message);
    [Fact] public void HeaderNotAnObject() => Assert.Contains("JSON object", Fails(Build("[1,2]", 0)).Message);
    [Fact] public void TruncatedData() => Assert.Contains("run past the data section", Fails(Build(Valid, 10)).Message);
    [Fact] public void TrailingData() => Assert.Contains("trailing", Fails(Build(Valid, 20)).Message);

    [Fact]
    public void OffsetsOutOfRange()
    {
        var error = Fails(Build("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[100,108]}}""", 8));
        Assert.Equal("w", error.Tensor);
        Assert.Contains("[100, 108]", error.Message);
    }

    [Fact]
    public void OverlappingOffsets()
    {
        var error = Fails(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        Assert.Contains("overlap", error.Message);
        Assert.Equal("b", error.Tensor);
    }

    [Fact]
    public void GapBetweenTensors() =>
        Assert.Contains("gap", Fails(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)).Message);

    [Fact]
    public void ShapeTimesDtypeDisagreesWithByteRange()
    {
        var error = Fails(Build("""{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}""", 16));
        Assert.Contains("needs 24 bytes", error.Message);
        Assert.Equal("w", error.Tensor);
    }

    [Fact]
    public void UnknownDtype()
    {
        var error = Fails(Build("""{"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}""", 16));
        Assert.Contains("unknown dtype 'F128'", error.Message);
        Assert.Contains("BF16", error.Message);
    }

    [Fact] public void NegativeShape() => Assert.Contains("non-negative", Fails(Build("""{"w":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,0]}}""", 0)).Message);
    [Fact] public void MissingDtype() => Assert.Contains("'dtype'", Fails(Build("""{"w":{"shape":[1],"data_offsets":[0,4]}}""", 4)).Message);
    [Fact] public void MetadataNotStrings() => Assert.Contains("__metadata__", Fails(Build("""{"__metadata__":{"a":1}}""", 0)).Message);
    [Fact] public void DuplicateName() => Assert.Contains("twice", Fails(Build("""{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2)).Message);
    [Fact] public void EndBeforeBegin() => Assert.Contains("end before", Fails(Build("""{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}""", 4)).Message);

    [Fact]
    public void ShardIndexNamingAMissingShard()
    {
        using var dir = Fixtures.TempDir();
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"metadata":{},"weight_map":{"w":"model-00001-of-00002.safetensors"}}""");
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsSource.OpenIndex(dir.File("model.safetensors.index.json")));
        Assert.Contains("model-00001-of-00002.safetensors", error.Message);
    }

    [Fact]
    public void ShardIndexPlacingATensorInTheWrongShard()
    {
        using var dir = Fixtures.TempDir();
        SafetensorsWriter.Save(dir.File("a.safetensors"), new Dictionary<string, Tensor> { ["x"] = ones(1) });
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map":{"x":"a.safetensors","y":"a.safetensors"}}""");
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsSource.OpenIndex(dir.File("model.safetensors.index.json")));
        Assert.Equal("y", error.Tensor);
    }

    [Fact]
    public void MissingFile() => Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open("/nonexistent/x.safetensors"));
}

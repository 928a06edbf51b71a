from fake_kohya import main

main("sdxl")

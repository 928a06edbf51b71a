from fake_kohya import main

main("sd15")
